import Foundation
import HeraldCore
import HeraldCurl
import HeraldTesting
import Testing

/// Sends stored deliveries the way the send stage does: provider request → `CurlTransport` over real
/// sockets → provider classification.
struct SocketDelivery {
    let provider: any Provider
    let transport: CurlTransport

    /// Builds, sends and classifies one attempt of `delivery`.
    func attempt(_ delivery: Delivery, now: Date = Fixtures.now) async throws -> DeliveryOutcome {
        guard case .http(let request) = try provider.request(for: delivery) else {
            Issue.record("expected an HTTP request")
            return .failed(.permanent(.configuration, "not HTTP"))
        }
        let result = await transport.send(request)
        return provider.classify(.http(result), now: now)
    }
}

extension DeliveryOutcome {
    /// The failure, if the attempt failed.
    var classifiedFailure: DeliveryError? {
        if case .failed(let error) = self { return error }
        return nil
    }
}
