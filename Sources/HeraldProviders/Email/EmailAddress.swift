import Foundation

/// A mailbox as configured: an optional display name and an addr-spec (`Herald <notify@example.com>`).
struct EmailAddress: Sendable, Hashable {
    /// The display name, unquoted; nil when there is none.
    var displayName: String?
    /// The bare addr-spec, e.g. `notify@example.com`.
    var address: String

    /// Parses `Name <addr>`, `"Name" <addr>`, `<addr>` or `addr`.
    init(parsing text: String) {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        guard trimmed.hasSuffix(">"), let open = trimmed.lastIndex(of: "<") else {
            displayName = nil
            address = trimmed
            return
        }
        address = String(trimmed[trimmed.index(after: open)..<trimmed.index(before: trimmed.endIndex)])
            .trimmingCharacters(in: .whitespaces)
        var name = trimmed[..<open].trimmingCharacters(in: .whitespaces)
        if name.count >= 2, name.hasPrefix("\""), name.hasSuffix("\"") {
            name = String(name.dropFirst().dropLast()).replacingOccurrences(of: "\\\"", with: "\"")
                .replacingOccurrences(of: "\\\\", with: "\\")
        }
        displayName = name.isEmpty ? nil : name
    }

    /// The domain of the address, when it has one that can appear in a `Message-ID` (ASCII letters, digits,
    /// dots and hyphens).
    var messageIDDomain: String? {
        guard let at = address.lastIndex(of: "@") else { return nil }
        let domain = address[address.index(after: at)...].lowercased()
        let valid =
            !domain.isEmpty && domain.contains(".")
            && domain.unicodeScalars.allSatisfy { scalar in
                scalar.isASCII
                    && (scalar.properties.isAlphabetic || ("0"..."9").contains(scalar)
                        || ".-".unicodeScalars.contains(scalar))
            }
        return valid ? domain : nil
    }
}
