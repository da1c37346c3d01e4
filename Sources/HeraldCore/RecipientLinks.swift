import Foundation

/// The per-recipient links of a message to a directory user: one-click unsubscribe from the key on the channel
/// and the hosted preference center (SPEC §11.7).
public struct RecipientLinkSet: Sendable, Hashable {
    public var unsubscribeURL: String?
    public var preferencesURL: String?

    public init(unsubscribeURL: String? = nil, preferencesURL: String? = nil) {
        self.unsubscribeURL = unsubscribeURL
        self.preferencesURL = preferencesURL
    }
}

/// Makes signed per-recipient links (implemented by the API's `LinkSigner`, which also verifies them).
public protocol RecipientLinks: Sendable {
    /// The links for `user`'s message of `key` on `channel`, valid from `now`.
    func links(user: String, key: String, channel: Channel, now: Date) -> RecipientLinkSet
}
