import Foundation

extension DirectoryDocument {
    /// This document's records followed by the records of `existing` that this one does not replace.
    ///
    /// The file's records keep their positions, so validating the merged document names problems with the
    /// file's own indexes (`users[3].phone`) while references to records already stored resolve.
    public func merged(over existing: DirectoryDocument) -> DirectoryDocument {
        func merge<T>(_ new: [T], _ old: [T], key: (T) -> AnyHashable) -> [T] {
            let replaced = Set(new.map(key))
            return new + old.filter { !replaced.contains(key($0)) }
        }
        return DirectoryDocument(
            organizations: merge(organizations, existing.organizations) { $0.id },
            users: merge(users, existing.users) { $0.id },
            teams: merge(teams, existing.teams) { $0.id },
            projects: merge(projects, existing.projects) { $0.id },
            subscriptions: merge(subscriptions, existing.subscriptions) {
                [$0.project, $0.issue, $0.user ?? "", $0.team ?? ""]
            },
            preferences: merge(preferences, existing.preferences) { $0.identity }
        )
    }

    /// Decodes an import file and validates it together with the directory already stored: all or nothing.
    public static func parse(
        _ data: Data,
        catalog: Catalog,
        existing: DirectoryDocument,
        notifiers: [Int: Channel]? = nil
    ) throws(ValidationFailure)
        -> DirectoryDocument
    {
        let document = try decodeStrictly(data)
        let problems = document.merged(over: existing).validate(catalog: catalog, notifiers: notifiers)
        guard problems.isEmpty else { throw ValidationFailure(code: "VALIDATION_FAILED", details: problems) }
        return document
    }
}
