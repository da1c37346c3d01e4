/// What one recipient wants for one event key: the option value and which channels are on.
public struct EffectivePreference: Sendable, Hashable {
    /// The option value; `never` means nothing on any channel.
    public var value: PreferenceValue
    /// On/off per personal channel (PagerDuty is never personal and always reads off).
    public var channels: [Channel: Bool]

    /// Creates a resolved preference.
    public init(value: PreferenceValue, channels: [Channel: Bool]) {
        self.value = value
        self.channels = channels
    }

    /// Whether the recipient hears about the key on `channel` at all (the value is not `never` and the
    /// channel is on); rules such as `subscribeOnly` still decide afterwards.
    public func isEnabled(_ channel: Channel) -> Bool {
        value != .never && channels[channel] == true
    }

    /// The personal channels enabled, in channel order.
    public var enabledChannels: [Channel] {
        Channel.personal.filter(isEnabled)
    }
}

/// Resolves preference rows into an ``EffectivePreference`` (SPEC §8.2).
///
/// Starting from the catalog defaults and the type's default value, rows apply from least to most specific:
/// scope `user` < `organization` < `project`, and within one scope the type row before the key row. The
/// option value and each channel's on/off resolve separately; the most specific applicable row wins, and
/// among equally specific rows the later one. Organization and project rows apply only when they name the
/// event's organization and project. Keys marked critical ignore user-scope rows.
public enum PreferenceResolver {
    /// Resolves `rows` (the rows of one user or team) for the key of `entry`.
    ///
    /// Option rows whose value is not valid for the type are ignored, as are channel rows on PagerDuty.
    public static func resolve(
        rows: some Sequence<PreferenceRow>,
        entry: CatalogEntry,
        organizationId: String?,
        projectId: String?
    ) -> EffectivePreference {
        var value = PreferenceValue.typeDefault(for: entry.type)
        var valueRank = -1
        var channels: [Channel: Bool] = [:]
        channels.reserveCapacity(Channel.personal.count)
        for channel in Channel.personal { channels[channel] = entry.isEnabledByDefault(channel) }
        // Ranks of the winning channel rows, indexed like Channel.personal (tiny, so no dictionary needed).
        var channelRanks = [Int](repeating: -1, count: Channel.personal.count)
        for row in rows {
            guard
                let rank = specificity(
                    of: row,
                    entry: entry,
                    organizationId: organizationId,
                    projectId: projectId
                )
            else { continue }
            if let channel = row.channel {
                guard let slot = Channel.personal.firstIndex(of: channel), rank >= channelRanks[slot] else {
                    continue
                }
                channelRanks[slot] = rank
                channels[channel] = row.value != .never
            } else if rank >= valueRank, row.value.isAllowed(for: entry.type) {
                valueRank = rank
                value = row.value
            }
        }
        return EffectivePreference(value: value, channels: channels)
    }

    /// Resolves as ``resolve(rows:entry:organizationId:projectId:)`` for a key given by name and type.
    public static func resolve(
        rows: some Sequence<PreferenceRow>,
        key: String,
        type: NotificationType,
        defaults: [Channel: Bool],
        critical: Bool = false,
        organizationId: String?,
        projectId: String?
    ) -> EffectivePreference {
        let entry = CatalogEntry(key: key, type: type, description: "", defaults: defaults, critical: critical)
        return resolve(rows: rows, entry: entry, organizationId: organizationId, projectId: projectId)
    }

    /// How specific `row` is for the key of `entry` (higher wins), or nil when it does not apply.
    ///
    /// Scope counts first (user 0, organization 2, project 4); a key row adds 1 over a type row.
    static func specificity(
        of row: PreferenceRow,
        entry: CatalogEntry,
        organizationId: String?,
        projectId: String?
    ) -> Int? {
        let subjectRank: Int
        if row.subject == entry.key {
            subjectRank = 1
        } else if row.subject == entry.type.rawValue {
            subjectRank = 0
        } else {
            return nil
        }
        switch row.scope {
        case .user:
            if entry.critical { return nil }
        case .organization:
            guard let organizationId, row.scopeId == organizationId else { return nil }
        case .project:
            guard let projectId, row.scopeId == projectId else { return nil }
        }
        return row.scope.rank * 2 + subjectRank
    }
}
