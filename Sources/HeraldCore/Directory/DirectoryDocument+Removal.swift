extension DirectoryDocument {
    /// Whether the document holds the record `reference` names.
    public func contains(_ reference: DirectoryRecordReference) -> Bool {
        switch reference {
        case .organization(let id): organizations.contains { $0.id == id }
        case .user(let id): users.contains { $0.id == id }
        case .team(let id): teams.contains { $0.id == id }
        case .project(let id): projects.contains { $0.id == id }
        case .subscription(let project, let issue, let party):
            subscriptions.contains { $0.project == project && $0.issue == issue && $0.subscriber == party }
        }
    }

    /// The document after removing `reference` the way `Store.updateDirectory` does, plus the teams whose member
    /// lists lose a removed user (to be upserted in the same step).
    ///
    /// A removed user or team takes its preference rows and issue subscriptions along, a removed project its
    /// subscriptions; a removed user also leaves the teams listing it. Whatever else still refers to the record
    /// stays, so validating the result (`validate(catalog:)`) names every referrer that blocks the removal.
    public func removing(_ reference: DirectoryRecordReference) -> (document: DirectoryDocument, changedTeams: [Team]) {
        var document = self
        var changedTeams: [Team] = []
        func dropOwned(by party: DirectoryParty) {
            document.preferences.removeAll { $0.owner == party }
            document.subscriptions.removeAll { $0.subscriber == party }
        }
        switch reference {
        case .organization(let id):
            document.organizations.removeAll { $0.id == id }
        case .user(let id):
            document.users.removeAll { $0.id == id }
            dropOwned(by: .user(id))
            for index in document.teams.indices where document.teams[index].members.contains(id) {
                document.teams[index].members.removeAll { $0 == id }
                changedTeams.append(document.teams[index])
            }
        case .team(let id):
            document.teams.removeAll { $0.id == id }
            dropOwned(by: .team(id))
        case .project(let id):
            document.projects.removeAll { $0.id == id }
            document.subscriptions.removeAll { $0.project == id }
        case .subscription(let project, let issue, let party):
            document.subscriptions.removeAll { $0.project == project && $0.issue == issue && $0.subscriber == party }
        }
        return (document, changedTeams)
    }
}
