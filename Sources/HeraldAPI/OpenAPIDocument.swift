import Foundation
import Yams

/// The OpenAPI 3.1 document of the API (`openapi.yaml`, embedded by `scripts/embed-openapi.sh`).
public enum OpenAPIDocument {
    /// The document's YAML text.
    public static var text: String { yaml }

    /// The document as JSON bytes, converted once.
    public static let json: [UInt8] = {
        guard let object = try? Yams.load(yaml: yaml),
            let data = try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])
        else { return Array(#"{"openapi":"3.1.0"}"#.utf8) }
        return Array(data)
    }()
}
