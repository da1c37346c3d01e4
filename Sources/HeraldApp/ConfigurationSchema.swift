import HeraldCore
import Yams

/// The keys the configuration file may hold, so that a misspelt key is refused instead of silently ignored.
enum ConfigurationSchema {
    indirect enum Shape: Sendable {
        case object([JSONKey: Shape])
        case list(Shape)
        case anyKeys
        case scalar
    }

    static let notifier: Shape = .object([
        "id": .scalar, "name": .scalar, "channel": .scalar,
        "email": .object([
            "url": .scalar, "username": .scalar, "password": .scalar, "passwordFile": .scalar, "from": .scalar,
            "allowInsecure": .scalar,
        ]),
        "slack": .object(["apiURL": .scalar, "token": .scalar, "tokenFile": .scalar]),
        "pagerduty": .object(["eventsURL": .scalar]),
        "msteams": .object(["allowLegacyConnectors": .scalar]),
        "sms": .object([
            "apiURL": .scalar, "accountSid": .scalar, "authToken": .scalar, "authTokenFile": .scalar,
            "from": .scalar, "messagingServiceSid": .scalar, "segmentBudget": .scalar,
        ]),
        "webhook": .object(["signingSecret": .scalar, "signingSecretFile": .scalar]),
        "rateLimit": .object(["perSecond": .scalar, "burst": .scalar]),
        "retry": .object(["maxAttempts": .scalar, "maxAge": .scalar]),
    ])

    static let root: Shape = .object([
        "server": .object(["listen": .scalar, "metricsListen": .scalar, "maxBodyBytes": .scalar]),
        "store": .object([
            "sqlite": .object(["path": .scalar, "busyTimeoutSeconds": .scalar]),
            "postgres": .object([
                "url": .scalar, "password": .scalar, "passwordFile": .scalar, "poolSize": .scalar,
                "pollMilliseconds": .scalar, "listen": .scalar,
            ]),
        ]),
        "worker": .object([
            "concurrency": .scalar, "leaseSeconds": .scalar, "batchSize": .scalar, "pollMilliseconds": .scalar,
            "shutdownSeconds": .scalar, "fallthroughLimit": .scalar, "connectTimeoutSeconds": .scalar,
            "requestTimeoutSeconds": .scalar, "maxHostConnections": .scalar,
        ]),
        "log": .object(["level": .scalar, "format": .scalar]),
        "links": .object(["settingsURL": .scalar, "publicURL": .scalar]),
        "email": .object(["subjectPrefix": .scalar]),
        "defaults": .anyKeys,
        "notifiers": .list(notifier),
        "auth": .object([
            "tokens": .list(.object(["name": .scalar, "sha256": .scalar, "scopes": .list(.scalar)])),
            "jwt": .object([
                "hs256Secret": .scalar, "hs256SecretFile": .scalar, "ed25519PublicKey": .scalar,
                "ed25519PublicKeyFile": .scalar, "issuer": .scalar, "audience": .scalar,
            ]),
            "preferencesPerMinute": .scalar,
            "linkSecret": .scalar, "linkSecretFile": .scalar,
        ]),
        "catalog": .list(
            .object([
                "key": .scalar, "type": .scalar, "description": .scalar, "defaults": .anyKeys, "critical": .scalar,
            ])
        ),
        "retention": .object(["delivered": .scalar, "dead": .scalar]),
        "templates": .object(["directory": .scalar]),
        "secrets": .object(["whenMissing": .scalar]),
        "otp": .object([
            "secret": .scalar, "secretFile": .scalar, "perDestinationPerHour": .scalar, "minIntervalSeconds": .scalar,
        ]),
    ])

    /// Every key of `node` that the schema does not know, with its path.
    static func unknownKeys(in node: Node) -> [FieldError] {
        var problems: [FieldError] = []
        walk(node, shape: root, path: "", problems: &problems)
        return problems
    }

    private static func walk(_ node: Node, shape: Shape, path: String, problems: inout [FieldError]) {
        switch (node, shape) {
        case (.mapping(let mapping), .object(let fields)):
            for (keyNode, value) in mapping {
                let key = keyNode.string ?? "\(keyNode)"
                let childPath = path.isEmpty ? key : "\(path).\(key)"
                guard let childShape = fields[JSONKey(key)] else {  // byte for byte: not `K` for U+212A
                    problems.append(FieldError(field: childPath, message: "is not a known setting"))
                    continue
                }
                walk(value, shape: childShape, path: childPath, problems: &problems)
            }
        case (.sequence(let sequence), .list(let element)):
            for (index, value) in sequence.enumerated() {
                walk(value, shape: element, path: "\(path)[\(index)]", problems: &problems)
            }
        default:
            break  // Type mismatches are reported by the decoder with the same path.
        }
    }
}
