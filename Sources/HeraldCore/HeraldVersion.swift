/// The version of Herald, sent as `User-Agent: Herald/<version>`.
public enum HeraldVersion {
    public static let current = "0.1.0"
    public static let userAgent = "Herald/\(current)"
}
