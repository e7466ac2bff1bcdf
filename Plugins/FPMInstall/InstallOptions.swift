import PackagePlugin

/// The command line of `swift package fpm-install`, read with SwiftPM's own ArgumentExtractor
/// (a plugin cannot link swift-argument-parser).
struct InstallOptions {
    static let usage = """
    USAGE: swift package fpm-install [--product NAME] [--prefix DIR] [--destdir DIR]
                                     [--sysconfdir DIR] [--unitdir DIR] [--pool FILE ...]
                                     [--scratch-path DIR] [--description TEXT]

    Builds the app's executable (release, --static-swift-stdlib) and fpmctl, then installs:
      PREFIX/bin/NAME, PREFIX/bin/fpmctl
      SYSCONFDIR/fpm.conf            [global]: pid /run/NAME.pid, logs in /var/log/NAME, include pool.d/*.conf
      SYSCONFDIR/pool.d/*.conf       the --pool files, else the package's deploy/pool.d/*.conf,
                                     else a default pool [NAME] with handler = NAME
      UNITDIR/NAME.service           Type=notify, reload through fpmctl
      UNITDIR/NAME.socket            socket activation on the pools' listen addresses
      /etc/logrotate.d/NAME          rotates /var/log/NAME/*.log, then fpmctl reopen
      PREFIX/share/man/man1/NAME.1   from the binary's own help
    An existing configuration file is never overwritten: the new one goes beside it as *.new.
    A package's deploy/fpm.conf, when there is one, replaces the generated main configuration.

    OPTIONS:
      --product NAME      the executable product (default: the package's only executable)
      --prefix DIR        /usr/local by default
      --destdir DIR       staging root for packaging (default: none, install in place)
      --sysconfdir DIR    /etc/NAME by default
      --unitdir DIR       PREFIX/lib/systemd/system by default
      --pool FILE         a pool file to install (repeatable; relative to the package)
      --scratch-path DIR  the release build's folder (default: .build/fpm-install)
      --description TEXT  the man page's one-line description
    """

    var help = false
    var product: String?
    var prefix = "/usr/local"
    var destdir = ""
    var sysconfdir: String?
    var unitdir: String?
    var pools: [String] = []
    var scratchPath: String?
    var description: String?

    init(arguments: [String]) throws {
        var extractor = ArgumentExtractor(arguments)
        help = extractor.extractFlag(named: "help") > 0
        product = extractor.extractOption(named: "product").last
        prefix = extractor.extractOption(named: "prefix").last ?? prefix
        destdir = extractor.extractOption(named: "destdir").last ?? destdir
        sysconfdir = extractor.extractOption(named: "sysconfdir").last
        unitdir = extractor.extractOption(named: "unitdir").last
        pools = extractor.extractOption(named: "pool")
        scratchPath = extractor.extractOption(named: "scratch-path").last
        description = extractor.extractOption(named: "description").last
        if !extractor.remainingArguments.isEmpty {
            throw InstallError("unknown argument(s): \(extractor.remainingArguments.joined(separator: " ")) (see --help)")
        }
        guard prefix.hasPrefix("/") else { throw InstallError("--prefix must be an absolute path, not '\(prefix)'") }
        while destdir.count > 1 && destdir.hasSuffix("/") { destdir.removeLast() }
        if destdir == "/" { destdir = "" }
    }

    /// The product to install: the one named, which must be an executable of this package, or
    /// the package's only executable.
    func executableProduct(in package: Package) throws -> String {
        let executables = package.products(ofType: ExecutableProduct.self).map(\.name)
        if let product {
            guard executables.contains(product) else {
                throw InstallError("'\(product)' is not an executable product of \(package.displayName) (it has: \(executables.joined(separator: ", ")))")
            }
            return product
        }
        guard executables.count == 1, let only = executables.first else {
            throw InstallError("say which product to install with --product (executables: \(executables.joined(separator: ", ")))")
        }
        return only
    }
}
