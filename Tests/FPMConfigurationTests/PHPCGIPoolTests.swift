import Foundation
import FPMConfiguration
import Testing

/// A php-fpm pool file moved over: recognised and pointed at php-cgi; in an `exec = php-cgi…`
/// pool the php.ini overrides become -d settings instead of warnings.
@Suite struct PHPCGIPoolTests {
    /// The isolated file system, with `program` as the installed php-cgi.
    static func withPHPCGI(_ program: String?) -> ConfigurationFileSystem {
        let isolated = ConfigurationFileSystem.isolated
        return ConfigurationFileSystem(
            readFile: isolated.readFile, glob: isolated.glob, isDirectory: isolated.isDirectory,
            isExecutable: isolated.isExecutable, userExists: isolated.userExists, groupExists: isolated.groupExists,
            phpCGIProgram: { program })
    }

    @Test func aPoolWithPHPSettingsAndNoHandlerIsToldToExecPHPCGI() {
        let text = minimalExecPool + "php_admin_value[memory_limit] = 64M\n"
        #expect(errors(text, fileSystem: Self.withPHPCGI("php-cgi8.2")) == [
            "t.conf:1: handler: the pool has neither 'handler' nor 'exec' and looks like a php-fpm pool (php_admin_value at line 5): add 'exec = php-cgi8.2' to run PHP with php-cgi, one process per worker as php-fpm's (the php_* lines reach it as -d settings)"
        ])
    }

    @Test func withNoPHPCGIInstalledTheMessageNamesAGenericPath() {
        let text = minimalExecPool + "security.limit_extensions = .php .php8\n"
        let lines = errors(text, fileSystem: Self.withPHPCGI(nil))
        #expect(lines.count == 1)
        #expect(lines.first?.contains("(security.limit_extensions = .php .php8 at line 5)") == true)
        #expect(lines.first?.contains("add 'exec = /path/to/php-cgi'") == true)
    }

    @Test func debiansSocketPathIsEnoughToTellAPHPFPMPool() {
        let text = "[www]\nlisten = /run/php/php8.2-fpm.sock\npm = static\npm.max_children = 1\n"
        let lines = errors(text, fileSystem: Self.withPHPCGI("php-cgi8.2"))
        #expect(lines == ["t.conf:1: handler: the pool has neither 'handler' nor 'exec' and looks like a php-fpm pool (listen = /run/php/php8.2-fpm.sock at line 2): add 'exec = php-cgi8.2' to run PHP with php-cgi, one process per worker as php-fpm's (the php_* lines reach it as -d settings)"])
    }

    /// A pool that does not look like PHP keeps the general message.
    @Test func aPlainPoolKeepsTheGeneralMessage() {
        #expect(errors(minimalExecPool, fileSystem: Self.withPHPCGI("php-cgi8.2")).first?.contains("looks like a php-fpm pool") == false)
    }

    /// The real lookup (PATH) finds the php-cgi the tests install.
    @Test(.enabled(if: FileManager.default.isExecutableFile(atPath: "/usr/bin/php-cgi8.2"), "php8.2-cgi is not installed (make deps)"))
    func theSystemLookupNamesTheInstalledPHPCGI() {
        #expect(ConfigurationFileSystem.system.phpCGIProgram()?.hasPrefix("php-cgi8.") == true)
    }

    @Test func theNewestVersionedPHPCGIIsPreferred() {
        #expect(PHPCGI.preferred(["php-cgi", "php-cgi8.2", "php-cgi8.10", "php-cgi7.4", "php-cgi-wrapper"]) == "php-cgi8.10")
        #expect(PHPCGI.preferred(["php-cgi", "php-cgi-wrapper"]) == "php-cgi")
        #expect(PHPCGI.preferred(["php-cgi-wrapper"]) == nil)
    }

    @Test func phpSettingsInAPHPCGIPoolAreNotWarnedAbout() throws {
        let configuration = try load(minimalExecPool + """
            exec = php-cgi8.2
            php_admin_value[error_log] = /var/log/a.log
            php_flag[display_errors] = off

            """)
        #expect(configuration.warnings.isEmpty)
        #expect(configuration.pools[0].runsPHPCGI)
        #expect(PHPCGI.iniArguments(configuration.pools[0].phpSettings) == [
            "-d", "error_log=/var/log/a.log", "-d", "display_errors=0",
        ])
        // Still shown by -tt.
        #expect(configuration.renderEffective().contains("php_flag[display_errors] = off"))
        // Another program's pool still warns: nothing there reads them.
        let other = try load(minimalExecPool + "exec = /usr/bin/hello-fcgi\nphp_value[x] = 1\n")
        #expect(other.warnings.map(\.description) == ["t.conf:6: php_value[x]: PHP-only directive ignored by swift-fpm"])
    }

    @Test func flagsBecomeOneOrZero() {
        let settings = [
            PHPSetting(kind: .flag, key: "a", value: "On"), PHPSetting(kind: .adminFlag, key: "b", value: "no"),
            PHPSetting(kind: .value, key: "error_reporting", value: "E_ALL & ~E_NOTICE"),
        ]
        #expect(PHPCGI.iniArguments(settings) == ["-d", "a=1", "-d", "b=0", "-d", "error_reporting=E_ALL & ~E_NOTICE"])
    }

    @Test func phpCGIIsToldByTheProgramsName() {
        #expect(PHPCGI.isPHPCGI("php-cgi8.2"))
        #expect(PHPCGI.isPHPCGI("/usr/bin/php-cgi"))
        #expect(!PHPCGI.isPHPCGI("/usr/lib/cgi-bin/php"))
        #expect(!PHPCGI.isPHPCGI("/opt/php-cgi8.2/bin/hello"))
    }

    /// php-cgi forking its own children would hide them from the master.
    @Test func phpFCGIChildrenIsRefusedInAPHPCGIPool() {
        #expect(errors(minimalExecPool + "exec = php-cgi8.2\nenv[PATH] = /usr/bin\nenv[PHP_FCGI_CHILDREN] = 4\nenv[TMP] = /tmp\n") == [
            "t.conf:7: env[PHP_FCGI_CHILDREN] = 4: php-cgi would fork its own children behind the master: leave it unset and size the pool with pm.max_children"
        ])
        #expect(errors(minimalExecPool + "exec = php-cgi8.2\nenv[PHP_FCGI_CHILDREN] = 0\n") == [])
    }

    /// What php-fpm's workers do themselves is not done by a foreign program: said, not silent.
    @Test func statusPingAndLimitExtensionsAreSaidToBeInertInAnExecPool() throws {
        let configuration = try load(minimalExecPool + "exec = php-cgi8.2\npm.status_path = /status\nping.path = /ping\nsecurity.limit_extensions = .php\n")
        #expect(configuration.warnings.map(\.description) == [
            "t.conf:6: pm.status_path = /status: not served in an exec pool (its program answers every request on the pool's socket): use pm.status_listen for the status and ping pages",
            "t.conf:7: ping.path = /ping: not served in an exec pool (its program answers every request on the pool's socket): use pm.status_listen for the status and ping pages",
            "t.conf:8: security.limit_extensions = .php: not enforced in an exec pool (its program reads SCRIPT_FILENAME itself): keep the web server's guard, e.g. nginx's `try_files $uri =404` in the `.php` location",
        ])
    }
}
