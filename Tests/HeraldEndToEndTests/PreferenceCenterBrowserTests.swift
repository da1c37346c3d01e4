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
        } catch {
            await browser.close()
            try await fixture.shutdown()
            throw error
        }
        await browser.close()
        try await fixture.shutdown()
    }
}
