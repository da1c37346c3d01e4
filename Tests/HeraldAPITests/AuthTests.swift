import Crypto
import Foundation
import HTTPTypes
@testable import HeraldAPI
import HeraldCore
import HummingbirdTesting
import Testing

@Suite struct AuthTests {
    @Test func missingOrWrongTokenIs401WithChallenge() async throws {
        let harness = try await APIHarness()
        try await harness.test { client in
            for token in [nil, "not-a-token", "a.b.c"] as [String?] {
                let response = try await harness.call(client, .post, "/api/v1/events", token: token, json: "{}")
                #expect(response.status == .unauthorized)
                #expect(response.errorCode == "AUTH_UNAUTHORIZED")
                #expect(response.headers[.wwwAuthenticate]?.hasPrefix("Bearer") == true)
            }
        }
    }

    @Test func missingScopeIs403() async throws {
        let harness = try await APIHarness()
        try await harness.test { client in
            let response = try await harness.call(
                client,
                .post,
                "/api/v1/events",
                token: APIHarness.readerToken,
                json: EventRouteTests.event
            )
            #expect(response.status == .forbidden)
            #expect(response.errorCode == "AUTH_FORBIDDEN")
        }
    }

    @Test func userJWTCannotUseTokenRoutes() async throws {
        let harness = try await APIHarness()
        let jwt = try await harness.userJWT("u1")
        try await harness.test { client in
            let response = try await harness.call(
                client,
                .post,
                "/api/v1/events",
                token: jwt,
                json: EventRouteTests.event
            )
            #expect(response.status == .forbidden)
        }
    }

    @Test func jwtChecks() async throws {
        let harness = try await APIHarness(jwtIssuer: "tracker", jwtAudience: "herald")
        let good = try await harness.userJWT("u1", issuer: "tracker", audience: "herald")
        #expect(try await harness.dependencies.authenticator.authenticate(bearer: good) == .user(id: "u1"))
        let eddsa = try await harness.userEdDSAJWT("u2")
        // No iss/aud on this one: refused because both are configured.
        await #expect(throws: AuthenticationRefusal.self) {
            try await harness.dependencies.authenticator.authenticate(bearer: eddsa)
        }
        let refused: [String] = [
            try await harness.userJWT("u1", expiresIn: -61, issuer: "tracker", audience: "herald"),
            try await harness.userJWT("u1", expiresIn: nil, issuer: "tracker", audience: "herald"),
            try await harness.userJWT(
                "u1",
                secret: "another-secret-of-at-least-thirty-two-bytes",
                issuer: "tracker",
                audience: "herald"
            ),
            try await harness.userJWT("u1", issuer: "elsewhere", audience: "herald"),
            try await harness.userJWT("u1", issuer: "tracker", audience: "other"),
            try await harness.userEdDSAJWT("u1", key: Curve25519.Signing.PrivateKey()),
            harness.unsignedJWT("u1"),
        ]
        for token in refused {
            await #expect(throws: AuthenticationRefusal.self) {
                try await harness.dependencies.authenticator.authenticate(bearer: token)
            }
        }
        // Inside the 60 s leeway an expired token still passes.
        let late = try await harness.userJWT("u1", expiresIn: -30, issuer: "tracker", audience: "herald")
        #expect(try await harness.dependencies.authenticator.authenticate(bearer: late) == .user(id: "u1"))
    }

    /// A token is verified once and remembered, but its time claims are checked on every use.
    @Test func aRememberedTokenStillExpiresAndATamperedOneIsStillRefused() async throws {
        let harness = try await APIHarness()
        let authenticator = harness.dependencies.authenticator
        let token = try await harness.userJWT("u1", expiresIn: 100)
        for _ in 0..<3 { #expect(try await authenticator.authenticate(bearer: token) == .user(id: "u1")) }
        #expect(authenticator.verified.count == 1)
        // The same header and payload with another signature is another token: verified afresh, refused.
        let parts = token.split(separator: ".")
        let forged = "\(parts[0]).\(parts[1]).\(String(parts[2].reversed()))"
        await #expect(throws: AuthenticationRefusal.self) { try await authenticator.authenticate(bearer: forged) }
        #expect(authenticator.verified.count == 1)
        harness.clock.advance(by: 100 + 59)
        #expect(try await authenticator.authenticate(bearer: token) == .user(id: "u1"), "inside the leeway")
        harness.clock.advance(by: 2)
        await #expect(throws: AuthenticationRefusal.self) { try await authenticator.authenticate(bearer: token) }
    }

    @Test func eddsaTokenAndAlgorithmConfusionRefused() async throws {
        let harness = try await APIHarness()
        let eddsa = try await harness.userEdDSAJWT("u2")
        #expect(try await harness.dependencies.authenticator.authenticate(bearer: eddsa) == .user(id: "u2"))
        // An HS256 token keyed with the Ed25519 public key's PEM text (the classic confusion) is refused.
        let pem = Data(harness.ed25519.publicKey.rawRepresentation).base64EncodedString()
        let confused = try await harness.userJWT("u2", secret: pem)
        await #expect(throws: AuthenticationRefusal.self) {
            try await harness.dependencies.authenticator.authenticate(bearer: confused)
        }
    }

    @Test func noCredentialReachesALogLine() async throws {
        let harness = try await APIHarness()
        let jwt = try await harness.userJWT("u1")
        try await harness.test { client in
            try await harness.call(
                client,
                .post,
                "/api/v1/events",
                token: APIHarness.writerToken,
                json: EventRouteTests.event
            )
            try await harness.call(client, .post, "/api/v1/events", token: "wrong-token-xyz", json: "{}")
            try await harness.call(client, .post, "/api/v1/events", token: jwt, json: "{}")
            try await harness.call(client, .get, "/api/v1/nope", token: APIHarness.adminToken)
        }
        let lines = harness.logs.all
        #expect(!lines.isEmpty)
        for line in lines {
            for secret in [
                APIHarness.writerToken, APIHarness.adminToken, "wrong-token-xyz", jwt, APIHarness.hs256Secret,
            ] {
                #expect(!line.contains(secret), "\(line)")
            }
        }
    }
}
