import Foundation
import HeraldCore
import Yams

/// A refused configuration: every problem with the path of the field it concerns.
public struct ConfigurationError: Error, Sendable, CustomStringConvertible {
    public var problems: [FieldError]

    public init(problems: [FieldError]) {
        self.problems = problems
    }

    public var description: String {
        problems.map { "\($0.field): \($0.message)" }.joined(separator: "\n")
    }
}

/// Reads, decodes and validates the configuration file.
public enum ConfigurationLoader {
    /// The file used when neither `--config` nor `HERALD_CONFIG` names one.
    public static let defaultPath = "/etc/herald/herald.yaml"

    /// The path to use: the explicit one, else `HERALD_CONFIG`, else the default.
    public static func path(
        explicit: String?,
        environment: [String: String] = ProcessInfo.processInfo.environment
    )
        -> String
    {
        explicit ?? environment["HERALD_CONFIG"] ?? defaultPath
    }

    /// Loads and validates the file at `path`; secrets are resolved (files read, `${ENV}` expanded).
    public static func load(
        path: String,
        environment: [String: String] = ProcessInfo.processInfo.environment
    )
        throws(ConfigurationError) -> LoadedConfiguration
    {
        let text: String
        do {
            text = try String(contentsOfFile: path, encoding: .utf8)
        } catch {
            throw ConfigurationError(problems: [
                FieldError(field: path, message: "cannot read the configuration file (\(describe(error)))")
            ])
        }
        let directory = URL(fileURLWithPath: path).deletingLastPathComponent()
        return try load(yaml: text, baseDirectory: directory, environment: environment)
    }

    /// Loads and validates YAML text.
    public static func load(
        yaml: String,
        baseDirectory: URL,
        environment: [String: String]
    ) throws(ConfigurationError)
        -> LoadedConfiguration
    {
        let node: Node
        do {
            guard let composed = try Yams.compose(yaml: yaml) else {
                throw ConfigurationError(problems: [FieldError(field: "(file)", message: "is empty")])
            }
            node = composed
        } catch let error as ConfigurationError {
            throw error
        } catch {
            throw ConfigurationError(problems: [FieldError(field: "(file)", message: "is not valid YAML: \(error)")])
        }
        var problems = ConfigurationSchema.unknownKeys(in: node)
        var configuration: HeraldConfiguration
        do {
            configuration = try YAMLDecoder().decode(HeraldConfiguration.self, from: node)
        } catch let error as DecodingError {
            problems.append(fieldError(from: error))
            throw ConfigurationError(problems: problems)
        } catch {
            problems.append(FieldError(field: "(file)", message: "\(error)"))
            throw ConfigurationError(problems: problems)
        }
        configuration.baseDirectory = baseDirectory
        var validator = ConfigurationValidator(configuration: configuration, environment: environment)
        validator.validate()
        problems.append(contentsOf: validator.problems)
        guard problems.isEmpty else { throw ConfigurationError(problems: problems) }
        var loaded = LoadedConfiguration(
            configuration: configuration,
            secrets: validator.secrets,
            catalog: validator.catalog,
            retention: validator.retention
        )
        loaded.notConfigured = validator.notConfigured
        return loaded
    }

    static func fieldError(from error: DecodingError) -> FieldError {
        func render(_ path: [any CodingKey]) -> String {
            var text = ""
            for key in path {
                if let index = key.intValue, key.stringValue.hasPrefix("Index") || key.stringValue == "\(index)" {
                    text += "[\(index)]"
                } else {
                    text += text.isEmpty ? key.stringValue : ".\(key.stringValue)"
                }
            }
            return text.isEmpty ? "(file)" : text
        }
        switch error {
        case .keyNotFound(let key, let context):
            return FieldError(field: render(context.codingPath + [key]), message: "is required")
        case .typeMismatch(let type, let context):
            return FieldError(field: render(context.codingPath), message: "must be \(typeName(type))")
        case .valueNotFound(let type, let context):
            return FieldError(field: render(context.codingPath), message: "must be \(typeName(type)), not null")
        case .dataCorrupted(let context):
            return FieldError(field: render(context.codingPath), message: context.debugDescription)
        @unknown default:
            return FieldError(field: "(file)", message: "\(error)")
        }
    }

    private static func typeName(_ type: Any.Type) -> String {
        switch type {
        case is String.Type: "a string"
        case is Int.Type: "an integer"
        case is Double.Type: "a number"
        case is Bool.Type: "true or false"
        default: "\(type)".contains("Array") ? "a list" : "a mapping"
        }
    }

    static func describe(_ error: any Error) -> String {
        let nsError = error as NSError
        if let underlying = nsError.userInfo[NSUnderlyingErrorKey] as? NSError {
            return String(cString: strerror(Int32(underlying.code)))
        }
        if nsError.domain == NSCocoaErrorDomain, nsError.code == 260 { return "no such file" }
        return nsError.localizedDescription
    }
}

/// A validated configuration with its secrets resolved.
public struct LoadedConfiguration: Sendable {
    public var configuration: HeraldConfiguration
    /// Resolved secret values by field path (`notifiers[1].slack.token`).
    public var secrets: [String: String]
    /// The catalog: built-in keys plus the custom keys of the file.
    public var catalog: Catalog
    public var retention: Retention
    /// Notifiers left out because a secret they name is absent (`secrets.whenMissing: notConfigured`).
    public var notConfigured: [NotConfiguredNotifier] = []

    /// Every secret value, for scrubbing text that might echo one.
    public var secretValues: [String] { Array(secrets.values) }

    /// The secret for a field path, if any.
    public func secret(_ path: String) -> String? { secrets[path] }
}
