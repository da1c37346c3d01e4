import Foundation
import HeraldCore
import Hummingbird
import Testing

@testable import HeraldAPI

/// The matrix rows are written by hand for speed (W6); they must read exactly as `JSONEncoder` would write them.
@Suite struct MatrixJSONTests {
    static let keys = [
        "assigned", "issue.escalating", "a_b-c.d", "deploy", "x",
        #"quote"inside"#, #"back\slash"#, "slash/inside", "café", "e\u{301}", "tab\there", "nul\u{0}", "\u{1F}",
    ]

    static func rows(_ key: String) -> [PreferenceMatrixRow] {
        (0..<64).map { bits in
            PreferenceMatrixRow(
                eventKey: key,
                email: bits & 1 != 0,
                slack: bits & 2 != 0,
                msteams: bits & 4 != 0,
                sms: bits & 8 != 0,
                webhook: bits & 16 != 0,
                customized: bits & 32 != 0
            )
        }
    }

    static func body(_ response: Response) async throws -> Data {
        let writer = CollectingWriter()
        try await response.body.write(writer)
        return Data(await writer.buffer.readableBytesView)
    }

    actor CollectingWriter: ResponseBodyWriter {
        var buffer = ByteBuffer()
        func write(_ buffer: ByteBuffer) async throws {
            var copy = buffer
            self.buffer.writeBuffer(&copy)
        }
        func finish(_ trailingHeaders: HTTPFields?) async throws {}
    }

    static func encoded(_ value: some Encodable) throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return try encoder.encode(value)
    }

    @Test(arguments: keys)
    func theMatrixReadsAsJSONEncoderWritesIt(_ key: String) async throws {
        let rows = Self.rows(key)
        let handWritten = try await Self.body(APIResponse.json(rows: rows))
        let reference = try Self.encoded(SuccessEnvelope(data: rows))
        let decoded = try JSONDecoder().decode(Envelope<[PreferenceMatrixRow]>.self, from: handWritten)
        #expect(decoded.success && decoded.data == rows)
        // Byte for byte where both writers escape alike (no control characters: catalog keys never hold one).
        if !key.unicodeScalars.contains(where: { $0.value < 0x20 }) { #expect(handWritten == reference) }
        let single = try await Self.body(APIResponse.json(row: rows[37]))
        #expect(try JSONDecoder().decode(Envelope<PreferenceMatrixRow>.self, from: single).data == rows[37])
        if !key.unicodeScalars.contains(where: { $0.value < 0x20 }) {
            #expect(single == (try Self.encoded(SuccessEnvelope(data: rows[37]))))
        }
    }

    @Test func anEmptyMatrixIsAnEmptyArray() async throws {
        let body = try await Self.body(APIResponse.json(rows: []))
        #expect(String(decoding: body, as: UTF8.self) == #"{"data":[],"success":true}"#)
    }

    struct Envelope<Payload: Decodable>: Decodable {
        var success: Bool
        var data: Payload
    }
}
