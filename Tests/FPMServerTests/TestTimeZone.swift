import Glibc

/// Makes local time UTC for the whole test process, once, for the access and error logs'
/// times (as FPMStatusTests' own copy does for the status page's: test targets share no code).
enum TestTimeZone {
    static let utc: Void = {
        setenv("TZ", "UTC", 1)
        tzset()
    }()
}
