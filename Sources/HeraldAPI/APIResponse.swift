import Foundation
import HTTPTypes
import HeraldCore
import Hummingbird

/// Success responses: `{"success": true, "data": …}` (SPEC §11).
public enum APIResponse {
    /// The envelope around an encodable value.
    public static func json(_ data: some Encodable & Sendable, status: HTTPResponse.Status = .ok) throws -> Response {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        let bytes = try encoder.encode(SuccessEnvelope(data: data))
        return Response(
            status: status,
            headers: [.contentType: "application/json; charset=utf-8"],
            body: .init(byteBuffer: ByteBuffer(bytes: bytes))
        )
    }

    /// The envelope around a JSON value (the hot paths build these without `JSONEncoder`).
    public static func json(value: JSONValue, status: HTTPResponse.Status = .ok) -> Response {
        let body: JSONValue = .object(["success": .bool(true), "data": value])
        return Response(
            status: status,
            headers: [.contentType: "application/json; charset=utf-8"],
            body: .init(byteBuffer: ByteBuffer(bytes: body.canonicalBytes()))
        )
    }

    /// 204 No Content.
    public static func noContent() -> Response {
        Response(status: .noContent)
    }
}

struct SuccessEnvelope<Payload: Encodable>: Encodable {
    var success = true
    var data: Payload
}
