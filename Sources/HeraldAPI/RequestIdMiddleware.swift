import HTTPTypes
import Hummingbird
import Logging

/// Gives every request a correlation id: a sane incoming `X-Request-Id` is reused, else a fresh one is made.
/// The id tags the request's logger (`request.id`) and is answered in `X-Request-Id` on every response.
public struct RequestIdMiddleware: RouterMiddleware {
    public typealias Context = APIRequestContext

    public init() {}

    public func handle(
        _ request: Request,
        context: APIRequestContext,
        next: (Request, APIRequestContext) async throws -> Response
    ) async throws -> Response {
        var context = context
        let id = request.headers[.xRequestId].flatMap { Self.isSane($0) ? $0 : nil } ?? Self.generate()
        context.requestId = id
        context.logger[metadataKey: "request.id"] = .string(id)
        var response = try await next(request, context)
        response.headers[.xRequestId] = id
        return response
    }

    /// 1–128 characters of letters, digits and `._:-` (nothing a log line or header could be confused by).
    static func isSane(_ id: String) -> Bool {
        (1...128).contains(id.utf8.count)
            && id.utf8.allSatisfy { byte in
                switch byte {
                case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
                    UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "-"), UInt8(ascii: "_"), UInt8(ascii: "."),
                    UInt8(ascii: ":"):
                    true
                default: false
                }
            }
    }

    /// 32 random hex digits.
    static func generate() -> String {
        var generator = SystemRandomNumberGenerator()
        let high = generator.next() as UInt64
        let low = generator.next() as UInt64
        func hex(_ value: UInt64) -> String {
            let text = String(value, radix: 16)
            return String(repeating: "0", count: 16 - text.count) + text
        }
        return hex(high) + hex(low)
    }
}

extension HTTPField.Name {
    /// The correlation id header.
    public static let xRequestId = HTTPField.Name("X-Request-Id")!
    /// `Idempotency-Key` (single-event bodies).
    public static let idempotencyKey = HTTPField.Name("Idempotency-Key")!
    static let rateLimitLimit = HTTPField.Name("RateLimit-Limit")!
    static let rateLimitRemaining = HTTPField.Name("RateLimit-Remaining")!
    static let rateLimitReset = HTTPField.Name("RateLimit-Reset")!
}
