import Glibc

/// Makes local time UTC for the whole test process, once: the goldens were captured from a
/// php-fpm 8.2 running in UTC.
enum TestTimeZone {
    static let utc: Void = {
        setenv("TZ", "UTC", 1)
        tzset()
    }()
}
