import Foundation

/// A parsed Prometheus text exposition (format 0.0.4), for tests that scrape `/metrics` and compare values.
public struct PrometheusText: Sendable {
    /// One sample line: `name{label="value",…} 12`.
    public struct Sample: Sendable, Hashable {
        public var name: String
        public var labels: [String: String]
        public var value: Double
    }

    public private(set) var samples: [Sample] = []
    /// `# TYPE` by family name.
    public private(set) var types: [String: String] = [:]
    /// `# HELP` by family name.
    public private(set) var help: [String: String] = [:]

    /// Parses `text`; a line that is not a comment, blank or a well-formed sample throws, naming the line.
    public init(_ text: String) throws {
        for line in text.split(separator: "\n", omittingEmptySubsequences: true) {
            if line.hasPrefix("#") {
                let parts = line.split(separator: " ", maxSplits: 3, omittingEmptySubsequences: true)
                if parts.count >= 3, parts[1] == "TYPE" {
                    types[String(parts[2])] = parts.count > 3 ? String(parts[3]) : ""
                }
                if parts.count >= 3, parts[1] == "HELP" {
                    help[String(parts[2])] = parts.count > 3 ? String(parts[3]) : ""
                }
                continue
            }
            guard let sample = Self.sample(line) else { throw ParseError(line: String(line)) }
            samples.append(sample)
        }
    }

    /// A line the parser could not read.
    public struct ParseError: Error, CustomStringConvertible {
        public var line: String
        public var description: String { "not a Prometheus sample line: \(line)" }
    }

    /// Every metric family name, as declared by `# TYPE` or seen in a sample.
    public var familyNames: Set<String> {
        Set(types.keys).union(samples.map(\.name))
    }

    /// The value of the sample `name` whose labels include `labels`; the sum when several match; nil when none.
    public func value(_ name: String, _ labels: [String: String] = [:]) -> Double? {
        let matching = samples.filter { sample in
            sample.name == name && labels.allSatisfy { sample.labels[$0.key] == $0.value }
        }
        return matching.isEmpty ? nil : matching.reduce(0) { $0 + $1.value }
    }

    /// Whether any sample belongs to the family `name` (histograms add `_bucket`, `_sum`, `_count`).
    public func hasFamily(_ name: String) -> Bool {
        types[name] != nil || samples.contains { $0.name == name }
    }

    private static func sample(_ line: Substring) -> Sample? {
        var rest = line[...]
        var labels: [String: String] = [:]
        let name: Substring
        if let brace = rest.firstIndex(of: "{") {
            name = rest[..<brace]
            rest = rest[rest.index(after: brace)...]
            while true {
                if rest.first == "}" {
                    rest = rest.dropFirst()
                    break
                }
                guard let equals = rest.firstIndex(of: "=") else { return nil }
                let key = rest[..<equals].trimmingCharacters(in: .whitespaces)
                rest = rest[rest.index(after: equals)...]
                guard rest.first == "\"" else { return nil }
                rest = rest.dropFirst()
                var value = ""
                var escaped = false
                var closed = false
                while let character = rest.first {
                    rest = rest.dropFirst()
                    if escaped {
                        value.append(character == "n" ? "\n" : character)
                        escaped = false
                    } else if character == "\\" {
                        escaped = true
                    } else if character == "\"" {
                        closed = true
                        break
                    } else {
                        value.append(character)
                    }
                }
                guard closed else { return nil }
                labels[key] = value
                if rest.first == "," { rest = rest.dropFirst() }
            }
        } else {
            guard let space = rest.firstIndex(of: " ") else { return nil }
            name = rest[..<space]
            rest = rest[space...]
        }
        let fields = rest.split(separator: " ", omittingEmptySubsequences: true)
        guard !name.isEmpty, let first = fields.first else { return nil }
        let value: Double?
        switch first {
        case "+Inf": value = .infinity
        case "-Inf": value = -.infinity
        case "NaN": value = .nan
        default: value = Double(first)
        }
        guard let value else { return nil }
        return Sample(name: String(name), labels: labels, value: value)
    }
}
