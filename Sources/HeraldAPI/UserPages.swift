import Foundation
import HeraldCore

/// The HTML of Herald's end-user pages (SPEC §11.7): server-rendered, working without JavaScript (plain forms
/// posting back), accessible (a label for every control, visible keyboard focus, text contrast above 7:1) and
/// readable on a phone (one column under 40em).
enum UserPages {
    /// A whole page around `main`.
    static func page(title: String, main: String) -> String {
        """
        <!DOCTYPE html>
        <html lang="en">
        <head>
        <meta charset="utf-8">
        <meta name="viewport" content="width=device-width, initial-scale=1">
        <title>\(escape(title))</title>
        <style>
        :root { color-scheme: light; }
        body { font: 16px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: #1a1a1a;
          background: #ffffff; margin: 0 auto; max-width: 48rem; padding: 1rem; }
        h1 { font-size: 1.5rem; } h2 { font-size: 1.2rem; margin-top: 2rem; border-bottom: 1px solid #767676; }
        fieldset { border: 1px solid #767676; border-radius: 6px; margin: 0 0 1rem; padding: .75rem 1rem; }
        legend { font-weight: 600; padding: 0 .25rem; }
        .channels { display: flex; flex-wrap: wrap; gap: .5rem 1.25rem; margin: .5rem 0; }
        .channels label { display: inline-flex; align-items: center; gap: .35rem; min-height: 44px; }
        input[type=checkbox] { width: 1.25rem; height: 1.25rem; }
        button { font: inherit; padding: .5rem 1rem; min-height: 44px; border-radius: 6px; border: 2px solid #0b4f8a;
          background: #0b4f8a; color: #ffffff; cursor: pointer; }
        button.secondary { background: #ffffff; color: #0b4f8a; }
        :focus-visible { outline: 3px solid #b35900; outline-offset: 2px; }
        .badge { display: inline-block; font-size: .8rem; font-weight: 600; color: #ffffff; background: #5c2d91;
          border-radius: 4px; padding: 0 .4rem; margin-left: .5rem; }
        .note { color: #3d3d3d; } .status { background: #e8f4e8; border-left: 4px solid #1e6b1e; padding: .5rem 1rem; }
        .error { background: #fbeaea; border-left: 4px solid #a11a1a; padding: .5rem 1rem; }
        .actions { display: flex; flex-wrap: wrap; gap: .5rem; }
        .sr-only { position: absolute; width: 1px; height: 1px; overflow: hidden; clip: rect(0 0 0 0);
          white-space: nowrap; }
        @media (max-width: 40em) { body { padding: .5rem; } fieldset { padding: .5rem .75rem; }
          .channels { display: grid; grid-template-columns: 1fr 1fr; gap: 0 .75rem; } }
        </style>
        </head>
        <body>
        <main>
        \(main)
        </main>
        </body>
        </html>

        """
    }

    /// The 400 page for a link that is not (or no longer) valid.
    static func invalidLink(_ refusal: LinkSigner.Refusal) -> String {
        let reason =
            switch refusal {
            case .expired: "This link has expired."
            case .disabled: "These pages are not enabled on this server."
            case .malformed, .forged, .wrongPurpose:
                "This link is not valid: it may have been altered or copied incompletely."
            }
        return page(
            title: "Link not valid",
            main: """
                <h1>Link not valid</h1>
                <p class="error" role="alert">\(reason) Nothing was changed.</p>
                <p class="note">Use the link in a recent notification, or change your settings in the application.</p>
                """
        )
    }

    /// The confirmation page of a one-click unsubscribe link (a `GET` never changes anything).
    static func unsubscribeConfirmation(key: String, description: String, channel: Channel, action: String) -> String {
        page(
            title: "Unsubscribe",
            main: """
                <h1>Unsubscribe</h1>
                <p>Stop receiving <strong>\(escape(description))</strong> (<code>\(escape(key))</code>) notifications \
                by <strong>\(channelName(channel))</strong>?</p>
                <form method="post" action="\(escape(action))">
                <input type="hidden" name="List-Unsubscribe" value="One-Click">
                <button type="submit">Unsubscribe from \(escape(description)) by \(channelName(channel))</button>
                </form>
                """
        )
    }

    /// The page after an unsubscribe was written.
    static func unsubscribed(key: String, description: String, channel: Channel, preferencesURL: String?) -> String {
        let more = preferencesURL.map { "<p><a href=\"\(escape($0))\">Manage all your notification settings</a></p>" }
        return page(
            title: "Unsubscribed",
            main: """
                <h1>Unsubscribed</h1>
                <p class="status" role="status">You will no longer receive <strong>\(escape(description))</strong> \
                (<code>\(escape(key))</code>) notifications by <strong>\(channelName(channel))</strong>.</p>
                \(more ?? "")
                """
        )
    }

    /// The preference center: the user's matrix grouped by notification type, one form per key. `status` (after a
    /// save or reset) is shown in the row of `statusKey`, where the redirect scrolls to.
    static func preferenceCenter(
        rows: [PreferenceMatrixRow],
        catalog: Catalog,
        action: String,
        status: String?,
        statusKey: String? = nil
    ) -> String {
        var groups: [String: [(PreferenceMatrixRow, CatalogEntry)]] = [:]
        for row in rows {
            guard let entry = catalog.entry(for: row.eventKey) else { continue }
            groups[entry.type.rawValue, default: []].append((row, entry))
        }
        var html = "<h1>Notification settings</h1>\n"
        html += "<p class=\"note\">Choose, for each kind of notification, the channels it may reach you on.</p>\n"
        if let status, statusKey == nil { html += "<p class=\"status\" role=\"status\">\(escape(status))</p>\n" }
        for type in groups.keys.sorted(by: typeOrder) {
            html += "<section aria-labelledby=\"type-\(escape(type))\">\n"
            html += "<h2 id=\"type-\(escape(type))\">\(escape(typeTitle(type)))</h2>\n"
            for (row, entry) in groups[type] ?? [] {
                html += rowForm(row, entry: entry, action: action, status: row.eventKey == statusKey ? status : nil)
            }
            html += "</section>\n"
        }
        return page(title: "Notification settings", main: html)
    }

    private static func rowForm(
        _ row: PreferenceMatrixRow,
        entry: CatalogEntry,
        action: String,
        status: String?
    )
        -> String
    {
        let id = "key-" + escape(row.eventKey)
        let badge = row.customized ? "<span class=\"badge\">Customized</span>" : ""
        var html = "<form method=\"post\" action=\"\(escape(action))\" id=\"form-\(id)\">\n"
        html += "<fieldset>\n<legend>\(escape(entry.description))\(badge)</legend>\n"
        html += "<input type=\"hidden\" name=\"key\" value=\"\(escape(row.eventKey))\">\n"
        if entry.critical {
            html += "<p class=\"note\">Always sent: these messages protect your account and cannot be turned off.</p>\n"
            return html + "</fieldset>\n</form>\n"
        }
        html += "<div class=\"channels\">\n"
        for channel in Channel.personal {
            let inputId = "\(id)-\(channel.rawValue)"
            let checked = value(row, channel) ? " checked" : ""
            html += "<label for=\"\(inputId)\"><input type=\"checkbox\" id=\"\(inputId)\" "
            html += "name=\"\(channel.rawValue)\" value=\"on\"\(checked)> \(channelName(channel))</label>\n"
        }
        html += "</div>\n"
        if let status { html += "<p class=\"status\" role=\"status\">\(escape(status))</p>\n" }
        // Short visible labels; screen readers hear which row each button belongs to.
        let what = "<span class=\"sr-only\"> \(escape(entry.description))</span>"
        html += "<div class=\"actions\">\n"
        html += "<button type=\"submit\" name=\"action\" value=\"save\" id=\"save-\(id)\">Save\(what)</button>\n"
        if row.customized {
            html += "<button type=\"submit\" name=\"action\" value=\"reset\" class=\"secondary\" id=\"reset-\(id)\">"
            html += "Reset to defaults<span class=\"sr-only\">:\(what)</span></button>\n"
        }
        return html + "</div>\n</fieldset>\n</form>\n"
    }

    static func value(_ row: PreferenceMatrixRow, _ channel: Channel) -> Bool {
        switch channel {
        case .email: row.email
        case .slack: row.slack
        case .msteams: row.msteams
        case .sms: row.sms
        case .webhook: row.webhook
        case .pagerduty: false
        }
    }

    static func channelName(_ channel: Channel) -> String {
        switch channel {
        case .email: "Email"
        case .slack: "Slack"
        case .msteams: "Microsoft Teams"
        case .sms: "SMS"
        case .webhook: "Webhook"
        case .pagerduty: "PagerDuty"
        }
    }

    private static func typeTitle(_ type: String) -> String {
        switch type {
        case "workflow": "Issue activity"
        case "deploy": "Deploys"
        case "alerts": "Alerts"
        case "security": "Account security"
        default: type.prefix(1).uppercased() + type.dropFirst()
        }
    }

    private static func typeOrder(_ a: String, _ b: String) -> Bool {
        let known = ["workflow", "alerts", "deploy"]
        let ia = known.firstIndex(of: a) ?? (a == "security" ? Int.max : known.count)
        let ib = known.firstIndex(of: b) ?? (b == "security" ? Int.max : known.count)
        return ia != ib ? ia < ib : a < b
    }

    /// HTML escaping for text and attribute values.
    static func escape(_ text: String) -> String {
        var out = ""
        out.reserveCapacity(text.count)
        for character in text {
            switch character {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&#39;"
            default: out.append(character)
            }
        }
        return out
    }

    /// `application/x-www-form-urlencoded` fields (a repeated name keeps its last value).
    static func formFields(_ body: String) -> [String: String] {
        var fields: [String: String] = [:]
        for pair in body.split(separator: "&") {
            let parts = pair.split(separator: "=", maxSplits: 1).map(String.init)
            func decode(_ text: String) -> String {
                text.replacingOccurrences(of: "+", with: " ").removingPercentEncoding ?? text
            }
            guard let name = parts.first else { continue }
            fields[decode(name)] = parts.count > 1 ? decode(parts[1]) : ""
        }
        return fields
    }
}
