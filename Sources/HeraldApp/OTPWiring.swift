import Foundation
import HeraldAPI
import HeraldCore
import HeraldWorker
import Logging

extension Daemon {
    /// One-time passcodes over the send stage's current providers, when `otp.secret(File)` is configured.
    static func makeOTPService(
        _ loaded: LoadedConfiguration,
        store: any Store,
        send: SendStage,
        clock: any WallClock,
        logger: Logger
    ) -> OTPService? {
        guard let secret = loaded.secret("otp.secret") else {
            if loaded.configuration.otp != nil {
                logger.warning("one-time passcodes are off: the otp secret is absent")
            }
            return nil
        }
        let otp = loaded.configuration.otp
        return OTPService(
            store: store,
            providers: { send.currentProviders },
            secret: Data(secret.utf8),
            limits: OTPIssueLimits(
                perDestinationPerHour: otp?.perDestinationPerHour ?? 5,
                minInterval: TimeInterval(otp?.minIntervalSeconds ?? 30)
            ),
            clock: clock,
            subjectPrefix: loaded.configuration.email.subjectPrefix,
            issued: { send.doorbell.ring() }
        )
    }
}
