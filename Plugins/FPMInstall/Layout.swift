/// Where each installed file goes (paths as the installed system sees them, without DESTDIR),
/// the same conventions as `make install` for the generic server, named after the app.
struct Layout {
    var name: String
    var prefix: String
    var binDir: String
    var sysconfDir: String
    var unitDir: String
    var manDir: String
    var logrotateDir = "/etc/logrotate.d"
    var logDir: String
    var pidFile: String

    init(product: String, options: InstallOptions) {
        name = product
        prefix = options.prefix == "/" ? "" : options.prefix
        binDir = prefix + "/bin"
        sysconfDir = options.sysconfdir ?? "/etc/" + product
        unitDir = options.unitdir ?? prefix + "/lib/systemd/system"
        manDir = prefix + "/share/man/man1"
        logDir = "/var/log/" + product
        pidFile = "/run/" + product + ".pid"
    }

    var binary: String { binDir + "/" + name }
    var fpmctl: String { binDir + "/fpmctl" }
    var mainConfig: String { sysconfDir + "/fpm.conf" }
    var poolDir: String { sysconfDir + "/pool.d" }
    var serviceUnit: String { unitDir + "/" + name + ".service" }
    var socketUnit: String { unitDir + "/" + name + ".socket" }
    var logrotate: String { logrotateDir + "/" + name }
    var manPage: String { manDir + "/" + name + ".1" }
}
