import Foundation
import HTTPTypes
import HeraldAPI
import HeraldCore
import HummingbirdTesting
import Testing

/// Validates responses against `openapi.yaml` (the embedded copy the API serves): the status must be documented
/// for the route, and a JSON body must match its schema. A checker of the JSON Schema subset the document uses:
/// `type` (one or several), `enum`, `const`, `required`, `properties`, `additionalProperties` (false or a
/// schema), `items`, `oneOf`, `anyOf`, `$ref`, `minimum`/`maximum`, `minLength`/`maxLength`, `minItems`/
/// `maxItems`, `pattern`.
struct OpenAPIChecker {
    let document: JSONValue

    static let shared = OpenAPIChecker()

    init() {
        document = (try? JSONParser.parse(Data(OpenAPIDocument.json))) ?? .null
    }

    /// Every (path, method) the document describes.
    var operations: Set<String> {
        var result = Set<String>()
        for (path, item) in document["paths"]?.objectValue ?? [:] {
            for method in (item.objectValue ?? [:]).keys
            where ["get", "put", "post", "patch", "delete"].contains(method) {
                result.insert("\(method.string.uppercased()) \(path)")
            }
        }
        return result
    }

    /// Problems of `response` to `method template` (empty when it conforms).
    func problems(_ response: TestResponse, method: HTTPTypes.HTTPRequest.Method, template: String) -> [String] {
        guard let operation = document["paths"]?[template]?[method.rawValue.lowercased()] else {
            return ["\(method.rawValue) \(template) is not in the document"]
        }
        let status = String(response.status.code)
        guard var declared = operation["responses"]?[status] else {
            return ["\(method.rawValue) \(template): status \(status) is not documented"]
        }
        if let reference = declared["$ref"]?.stringValue { declared = resolve(reference) }
        let contentType = response.headers[.contentType] ?? ""
        guard let content = declared["content"]?.objectValue else {
            return response.body.readableBytes == 0 ? [] : ["\(template) \(status): body where none is documented"]
        }
        guard contentType.hasPrefix("application/json") else {
            return content.keys.contains(where: { contentType.hasPrefix($0.string) })
                ? [] : ["\(template) \(status): content type \(contentType) is not documented"]
        }
        guard let schema = content["application/json"]?["schema"] else {
            return ["\(template) \(status): no JSON schema"]
        }
        guard let body = try? JSONParser.parse(Data(response.body.readableBytesView)) else {
            return ["\(template) \(status): body is not JSON"]
        }
        var found: [String] = []
        check(body, against: schema, path: "$", problems: &found)
        return found.map { "\(method.rawValue) \(template) \(status): \($0)" }
    }

    func resolve(_ reference: String) -> JSONValue {
        var node = document
        for part in reference.dropFirst(2).split(separator: "/") {
            node = node[String(part)] ?? .null
        }
        return node
    }

    func check(_ value: JSONValue, against schema: JSONValue, path: String, problems: inout [String]) {
        if let reference = schema["$ref"]?.stringValue {
            return check(value, against: resolve(reference), path: path, problems: &problems)
        }
        if let options = schema["oneOf"]?.arrayValue {
            let matching = options.filter { option in
                var scratch: [String] = []
                check(value, against: option, path: path, problems: &scratch)
                return scratch.isEmpty
            }
            if matching.count != 1 { problems.append("\(path): matches \(matching.count) of oneOf") }
            return
        }
        if let options = schema["anyOf"]?.arrayValue {
            let matches = options.contains { option in
                var scratch: [String] = []
                check(value, against: option, path: path, problems: &scratch)
                return scratch.isEmpty
            }
            if !matches { problems.append("\(path): matches none of anyOf") }
            return
        }
        if let constant = schema["const"], constant != value {
            problems.append("\(path): is not \(constant)")
        }
        if let options = schema["enum"]?.arrayValue, !options.contains(value) {
            problems.append("\(path): \(value) is not one of the enum")
        }
        if let types = typeList(schema["type"]), !types.contains(where: { matches(value, type: $0) }) {
            problems.append("\(path): is \(value.typeName), expected \(types.joined(separator: "|"))")
            return
        }
        switch value {
        case .object(let members):
            let properties = schema["properties"]?.objectValue ?? [:]
            for name in schema["required"]?.arrayValue?.compactMap(\.stringValue) ?? [] where members[name] == nil {
                problems.append("\(path): lacks required \(name)")
            }
            for (name, member) in members {
                if let property = properties[name] {
                    check(member, against: property, path: "\(path).\(name)", problems: &problems)
                } else if schema["additionalProperties"] == .bool(false) {
                    problems.append("\(path): has undocumented property \(name)")
                } else if let additional = schema["additionalProperties"], additional.objectValue != nil {
                    check(member, against: additional, path: "\(path).\(name)", problems: &problems)
                }
            }
        case .array(let elements):
            if let items = schema["items"] {
                for (index, element) in elements.enumerated() {
                    check(element, against: items, path: "\(path)[\(index)]", problems: &problems)
                }
            }
            if let minimum = schema["minItems"]?.numberValue, Double(elements.count) < minimum {
                problems.append("\(path): fewer than \(minimum) items")
            }
            if let maximum = schema["maxItems"]?.numberValue, Double(elements.count) > maximum {
                problems.append("\(path): more than \(maximum) items")
            }
        case .number(let number):
            if let minimum = schema["minimum"]?.numberValue, number < minimum {
                problems.append("\(path): below \(minimum)")
            }
            if let maximum = schema["maximum"]?.numberValue, number > maximum {
                problems.append("\(path): above \(maximum)")
            }
        case .string(let text):
            if let minimum = schema["minLength"]?.numberValue, Double(text.count) < minimum {
                problems.append("\(path): shorter than \(minimum)")
            }
            if let maximum = schema["maxLength"]?.numberValue, Double(text.count) > maximum {
                problems.append("\(path): longer than \(maximum)")
            }
            if let pattern = schema["pattern"]?.stringValue, text.range(of: pattern, options: .regularExpression) == nil
            {
                problems.append("\(path): does not match \(pattern)")
            }
        default: break
        }
    }

    private func typeList(_ value: JSONValue?) -> [String]? {
        switch value {
        case .string(let type)?: [type]
        case .array(let types)?: types.compactMap(\.stringValue)
        default: nil
        }
    }

    private func matches(_ value: JSONValue, type: String) -> Bool {
        switch (value, type) {
        case (.object, "object"), (.array, "array"), (.string, "string"), (.bool, "boolean"), (.null, "null"),
            (.number, "number"):
            true
        case (.number(let number), "integer"): number.rounded() == number
        default: false
        }
    }
}

extension APIHarness {
    /// Sends a request and checks the response against the document; returns it for further checks.
    @discardableResult
    func call(
        _ client: any TestClientProtocol,
        _ method: HTTPTypes.HTTPRequest.Method,
        _ uri: String,
        token: String? = nil,
        json: String? = nil,
        headers: HTTPFields = [:],
        sourceLocation: SourceLocation = #_sourceLocation
    ) async throws -> TestResponse {
        let response = try await client.send(method, uri, token: token, json: json, headers: headers)
        let path = String(uri.split(separator: "?", maxSplits: 1)[0])
        if let template = routes.template(for: path, method: method) {
            let problems = OpenAPIChecker.shared.problems(response, method: method, template: template)
            #expect(problems.isEmpty, "\(problems)", sourceLocation: sourceLocation)
        }
        #expect(response.headers[.xRequestId] != nil, sourceLocation: sourceLocation)
        #expect(response.status.code < 500 || response.status == .serviceUnavailable, sourceLocation: sourceLocation)
        return response
    }
}
