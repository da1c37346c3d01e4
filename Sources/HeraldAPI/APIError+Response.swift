import Foundation
import HTTPTypes
import HeraldCore
import Hummingbird

extension APIError {
    /// The one rendering of an error: the §11 envelope with the correlation id, plus the error's headers.
    public func response(requestId: String) -> Response {
        let error: [JSONKey: JSONValue] = [
            "code": .string(code.rawValue),
            "message": .string(message),
            "i18nKey": .string(i18nKey),
            "details": .array(
                details.map { .object(["field": .string($0.field), "message": .string($0.message)]) }
            ),
            "correlationId": .string(requestId),
        ]
        let body: JSONValue = .object(["success": .bool(false), "error": .object(error)])
        var headers = self.headers
        headers[.contentType] = "application/json; charset=utf-8"
        return Response(
            status: status,
            headers: headers,
            body: .init(byteBuffer: ByteBuffer(bytes: body.canonicalBytes()))
        )
    }
}
