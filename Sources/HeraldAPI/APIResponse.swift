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

    /// The envelope around matrix rows: an array for the matrix, one object for a row (written directly).
    public static func json(rows: [PreferenceMatrixRow], single: Bool = false) -> Response {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(32 + rows.count * 112)
        bytes.append(contentsOf: #"{"data":"#.utf8)
        if !single { bytes.append(UInt8(ascii: "[")) }
        for (offset, row) in rows.enumerated() {
            if offset > 0 { bytes.append(UInt8(ascii: ",")) }
            row.appendJSON(to: &bytes)
        }
        if !single { bytes.append(UInt8(ascii: "]")) }
        bytes.append(contentsOf: #","success":true}"#.utf8)
        return Response(
            status: .ok,
            headers: [.contentType: "application/json; charset=utf-8"],
            body: .init(byteBuffer: ByteBuffer(bytes: bytes))
        )
    }

    /// The envelope around one matrix row.
    public static func json(row: PreferenceMatrixRow) -> Response { json(rows: [row], single: true) }

    /// 204 No Content.
    public static func noContent() -> Response {
        Response(status: .noContent)
    }
}

struct SuccessEnvelope<Payload: Encodable>: Encodable {
    var success = true
    var data: Payload
}
