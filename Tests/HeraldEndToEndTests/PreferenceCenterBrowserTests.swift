import Foundation
import HeraldTesting
import Testing

/// The hosted preference center in a real browser (headless Chromium over WebDriver) against a real `herald
/// serve`: the page from the settings link of a delivered email, a channel toggled with a click and saved with the
/// row's button, another toggled and saved from the keyboard, the matrix read back through the API, a row reset,
/// and screenshots on a phone-sized and a desktop window kept as test artefacts.
@Suite("Preference center in Chromium", .serialized)
struct PreferenceCenterBrowserTests {
    @Test(.timeLimit(.minutes(3)))
    func togglingAndSavingInTheBrowserChangesTheMatrix() async throws {
        if let reason = WebDriverSession.unavailableReason {
            print("skipping the preference center browser test: \(reason)")
            return
        }
        let fixture = try await UserPagesFixture.start()
        let mail = try await fixture.deliverEmail(id: "browser-1")
        let settings = try #require(mail.url(after: "Notification settings: "))
        let browser = try await WebDriverSession.start(in: fixture.env.directory, width: 1280, height: 900)
        do {
            try await browser.emulatePhone(width: 390)
            try await browser.navigate(to: settings)
            #expect(try await browser.execute("return window.innerWidth") as? Int == 390, "a phone-sized viewport")
            let source = try await browser.pageSource
            #expect(source.contains("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"))
            #expect(!source.contains("<script"), "no JavaScript on the page")
            // One column on a phone: nothing wider than the window.
            let overflow = try await browser.execute("return document.documentElement.scrollWidth > window.innerWidth")
            #expect(overflow as? Bool == false, "the page scrolls sideways on a 390 px window")
            try await browser.screenshot("preference-center-phone.png")
            // WCAG contrast of every text element against its background: at least 7:1 (AAA).
            let contrast = try await browser.execute(Self.worstContrastScript) as? String ?? ""
            let worst = Double(contrast.split(separator: " ").first ?? "") ?? 0
            #expect(worst >= 7, "lowest text contrast \(contrast)")
            print("preference center: lowest text contrast \(contrast)")

            // A click on the Slack box of `note`, then on the row's Save button.
            let slack = try await browser.element("#key-note-slack")
            #expect(try await browser.isSelected(slack), "note reaches Slack by default")
            try await browser.execute("arguments[0].scrollIntoView({block: 'center'})", elements: [slack])
            try await browser.click(slack)
            #expect(try await !browser.isSelected(slack))
            let save = try await browser.element("#save-key-note")
            try await browser.execute("arguments[0].scrollIntoView({block: 'center'})", elements: [save])
            try await browser.click(save)
            try await eventually("the page to come back saved", timeout: .seconds(15), every: .milliseconds(50)) {
                try await browser.currentURL.contains("saved=note")
            }
            let saved = try await browser.pageSource
            #expect(saved.contains("Saved: A comment was added to an issue."), "\(saved.prefix(2000))")
            #expect(try await !browser.isSelected(try await browser.element("#key-note-slack")), "the page shows it")
            try await browser.screenshot("preference-center-saved-phone.png")
            var note = try #require(try await fixture.matrix()["note"])
            #expect(note["slack"] as? Bool == false && note["email"] as? Bool == true, "\(note)")
            #expect(note["customized"] as? Bool == true)

            // The keyboard: focus the email box of `deploy`, Space toggles it, Enter on Save submits.
            let deployEmail = try await browser.element("#key-deploy-email")
            try await browser.execute("arguments[0].focus()", elements: [deployEmail])
            try await browser.type(" ", into: deployEmail)
            #expect(try await !browser.isSelected(deployEmail))
            // Tab moves to the next box, with a visible focus ring.
            try await browser.type("\u{E004}", into: deployEmail)
            let focused = try await browser.execute(
                "const e = document.activeElement, s = getComputedStyle(e); "
                    + "return [e.id, s.outlineStyle, s.outlineWidth].join(' ')"
            )
            #expect(focused as? String == "key-deploy-slack solid 3px", "\(String(describing: focused))")
            let deploySave = try await browser.element("#save-key-deploy")
            try await browser.execute("arguments[0].focus()", elements: [deploySave])
            try await browser.type("\u{E007}", into: deploySave)
            try await eventually("the keyboard save", timeout: .seconds(15), every: .milliseconds(50)) {
                try await browser.currentURL.contains("saved=deploy")
            }
            #expect(try await fixture.matrix()["deploy"]?["email"] as? Bool == false)

            // Desktop width, then reset `note` to its defaults.
            try await browser.emulatePhone(width: nil)
            try await browser.navigate(to: settings)
            try await browser.screenshot("preference-center-desktop.png")
            let reset = try await browser.element("#reset-key-note")
            try await browser.execute("arguments[0].scrollIntoView({block: 'center'})", elements: [reset])
            try await browser.click(reset)
            try await eventually("the reset", timeout: .seconds(15), every: .milliseconds(50)) {
                try await browser.currentURL.contains("reset=note")
            }
            note = try #require(try await fixture.matrix()["note"])
            #expect(note["slack"] as? Bool == true && note["customized"] as? Bool == false, "\(note)")
            try await browser.screenshot("preference-center-reset-desktop.png")

            // The email's unsubscribe link opened in the browser: a confirmation page, then its button.
            let unsubscribe = try #require(mail.header("List-Unsubscribe")).dropFirst().dropLast()
            try await browser.navigate(to: String(unsubscribe))
            #expect(try await fixture.matrix()["payout_processed"]?["email"] as? Bool == true, "a GET changes nothing")
            try await browser.screenshot("unsubscribe-confirmation-desktop.png")
            try await browser.click(try await browser.element("form button[type=submit]"))
            try await eventually("the unsubscribed page", timeout: .seconds(15), every: .milliseconds(50)) {
                try await browser.pageSource.contains("<h1>Unsubscribed</h1>")
            }
            #expect(try await fixture.matrix()["payout_processed"]?["email"] as? Bool == false)
        } catch {
            await browser.close()
            try await fixture.shutdown()
            throw error
        }
        await browser.close()
        try await fixture.shutdown()
    }

    /// The lowest WCAG 2 contrast ratio of the page's text elements against their nearest opaque background,
    /// with the element that has it.
    static let worstContrastScript = """
        const channel = v => { v /= 255; return v <= 0.03928 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4); };
        const luminance = c => { const [r, g, b] = c.match(/[\\d.]+/g).map(Number).map(channel);
          return 0.2126 * r + 0.7152 * g + 0.0722 * b; };
        const background = e => { for (; e; e = e.parentElement) { const c = getComputedStyle(e).backgroundColor;
          if (c !== 'transparent' && !c.startsWith('rgba(0, 0, 0, 0)')) return c; } return 'rgb(255, 255, 255)'; };
        let worst = 100, which = '';
        for (const e of document.querySelectorAll('h1, h2, legend, label, p, button, .badge')) {
          const a = luminance(getComputedStyle(e).color), b = luminance(background(e));
          const ratio = (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05);
          if (ratio < worst) { worst = ratio; which = e.tagName + '.' + e.className; }
        }
        return worst.toFixed(2) + ' ' + which;
        """
}
