import Foundation
import HeraldCore

/// How suppressions are laid out in the `suppressions` table.
///
/// An ownerless alert on a large project cuts thousands of members at the fallthrough limit; one row each
/// made fan-out cost grow with the project (W5: about 40 % of its time). Groups of at least
/// `groupThreshold` suppressions sharing channel and reason are stored as one row whose recipient column is
/// the JSON array of recipients, placed where the group's first member stood; reads expand them, so callers
/// see exactly the suppressions that were stored.
enum SuppressionRows {
    struct Row {
        var recipient: String
        var channel: Channel?
        var reason: String
        var grouped: Bool
    }

    private struct Key: Hashable {
        var channel: Channel?
        var reason: String
    }

    /// Groups smaller than this are stored one row each.
    static let groupThreshold = 32

    /// The rows to insert for `suppressions`, in order.
    static func rows(for suppressions: [Suppression]) -> [Row] {
        guard suppressions.count >= groupThreshold else {
            return suppressions.map {
                Row(recipient: $0.recipient, channel: $0.channel, reason: $0.reason, grouped: false)
            }
        }
        var members: [Key: [String]] = [:]
        for suppression in suppressions {
            members[Key(channel: suppression.channel, reason: suppression.reason), default: []].append(
                suppression.recipient
            )
        }
        var rows: [Row] = []
        var written = Set<Key>()
        for suppression in suppressions {
            let key = Key(channel: suppression.channel, reason: suppression.reason)
            let group = members[key] ?? []
            if group.count < groupThreshold {
                rows.append(
                    Row(recipient: suppression.recipient, channel: key.channel, reason: key.reason, grouped: false)
                )
            } else if written.insert(key).inserted {
                let list = JSONValue.array(group.map { .string($0) }).canonicalBytes()
                rows.append(
                    Row(
                        recipient: String(decoding: list, as: UTF8.self),
                        channel: key.channel,
                        reason: key.reason,
                        grouped: true
                    )
                )
            }
        }
        return rows
    }

    /// The rows of a cut: one grouped row (the JSON array of `user:<id>`, written straight from the ids), or one
    /// row per member when the cut is small.
    static func rows(for cut: SuppressionCut) -> [Row] {
        guard cut.userIds.count >= groupThreshold else {
            return cut.userIds.map { Row(recipient: "user:" + $0, channel: nil, reason: cut.reason, grouped: false) }
        }
        let list = JSONValue.array(cut.userIds.map { .string("user:" + $0) }).canonicalBytes()
        return [Row(recipient: String(decoding: list, as: UTF8.self), channel: nil, reason: cut.reason, grouped: true)]
    }

    /// The recipients of a grouped row.
    static func members(_ stored: String) throws -> [String] {
        guard case .array(let values) = try JSONValue.parse(Data(stored.utf8)) else {
            throw StoreError.unavailable("a grouped suppression row is damaged")
        }
        return values.compactMap(\.stringValue)
    }
}
