import Foundation
import HeraldCore
import Testing

@testable import HeraldAPI

/// The hand-written token payload reads back through `JSONDecoder` to the same claims, whatever the strings hold.
@Suite("Link tokens")
struct LinkSignerTests {
    static let signer = LinkSigner(
        secret: Data("link-signer-test-secret-0123456789abcdef".utf8),
        publicURL: "https://h.test/"
    )

    @Test(arguments: ["u1", "user-2.b_c", "we\"ird\\user\u{1}\u{1F}é😀", ""])
    func tokensRoundTrip(user: String) throws {
        let now = Date(timeIntervalSince1970: 1_795_000_000)
        for claims in [
            LinkSigner.Claims(
                purpose: .unsubscribe,
                user: user,
                key: "k\"ey",
                channel: .msteams,
                expires: 1_800_000_000
            ),
            LinkSigner.Claims(purpose: .preferences, user: user, expires: 1_800_000_000),
        ] {
            let token = Self.signer.token(claims)
            #expect(try Self.signer.verify(token, purpose: claims.purpose, now: now) == claims)
            let payload = try #require(LinkSigner.data(base64URL: token.split(separator: ".")[0]))
            #expect(try JSONDecoder().decode(LinkSigner.Claims.self, from: payload) == claims)
            #expect(
                token.allSatisfy { $0.isLetter || $0.isNumber || "-_.".contains($0) } && token.allSatisfy(\.isASCII)
            )
        }
    }

    @Test func urlsNameThePublicAddressWithoutADoubleSlash() {
        let now = Date(timeIntervalSince1970: 1_795_000_000)
        let set = Self.signer.links(user: "u1", key: "assigned", channel: .email, now: now)
        #expect(set.unsubscribeURL?.hasPrefix("https://h.test/u/") == true)
        #expect(set.preferencesURL?.hasPrefix("https://h.test/preferences?token=") == true)
    }
}
