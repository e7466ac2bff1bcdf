import Foundation
import PackagePlugin

/// `swift package fpm-install`: deploys an app built on the FPM library. One release build of
/// the app (and of `fpmctl`, which shares every module with it) with the Swift runtime linked
/// in, then the files a server needs, laid out under PREFIX/DESTDIR as a package would: the
/// binary, its configuration, systemd units named after it, a logrotate snippet and a man page.
/// A plugin rather than a make include because an app that depends on swift-fpm already has it:
/// nothing to copy, and the installer always matches the FPM library the app links.
@main
struct FPMInstallPlugin: CommandPlugin {
    func performCommand(context: PluginContext, arguments: [String]) async throws {
        let options = try InstallOptions(arguments: arguments)
        if options.help {
            say(InstallOptions.usage)
            return
        }
        let package = context.package
        let product = try options.executableProduct(in: package)
        let packageDir = package.directoryURL.path
        let layout = Layout(product: product, options: options)
        let started = Date()

        let pools = try PoolSource.load(options: options, packageDirectory: packageDir, product: product)
        let listens = pools.flatMap(\.listens)
        guard !listens.isEmpty else {
            throw InstallError("no pool has a `listen` address: the socket unit needs one (\(pools.map(\.origin).joined(separator: ", ")))")
        }

        let swift = try SwiftBuild(context: context, packageDirectory: packageDir,
                                   scratchPath: options.scratchPath ?? packageDir + "/.build/fpm-install")
        progress("[1/3] building \(product) and fpmctl: release, --static-swift-stdlib, in \(swift.scratchPath)")
        try swift.build(product: product)
        try swift.build(product: "fpmctl")
        let binDir = swift.binPath

        progress("[2/3] writing the man page from \(product) --experimental-dump-help")
        let dump = try SwiftBuild.output(of: binDir + "/" + product, ["--experimental-dump-help"])
        let manPage = try ManPage.render(dumpHelp: dump, layout: layout, description: options.description)

        progress("[3/3] installing under \(options.destdir.isEmpty ? "/" : options.destdir) (prefix \(options.prefix))")
        let installer = Installer(destdir: options.destdir)
        try installer.directory(layout.binDir)
        try installer.copy(binDir + "/" + product, to: layout.binary, mode: 0o755)
        try installer.copy(binDir + "/fpmctl", to: layout.fpmctl, mode: 0o755)
        try installer.directory(layout.poolDir)
        try installer.configuration(pools.first(where: \.isMain)?.text ?? Templates.mainConfiguration(layout), at: layout.mainConfig)
        for pool in pools where !pool.isMain {
            try installer.configuration(pool.text, at: layout.poolDir + "/" + pool.fileName)
        }
        try installer.directory(layout.unitDir)
        try installer.file(Templates.service(layout), at: layout.serviceUnit, mode: 0o644)
        try installer.file(Templates.socket(layout, listens: listens), at: layout.socketUnit, mode: 0o644)
        try installer.directory(layout.logrotateDir)
        try installer.file(Templates.logrotate(layout), at: layout.logrotate, mode: 0o644)
        try installer.directory(layout.manDir)
        try installer.file(manPage, at: layout.manPage, mode: 0o644)
        try installer.directory(layout.logDir, mode: 0o750)
        let seconds = Int(Date().timeIntervalSince(started).rounded())
        progress("installed \(product) in \(seconds) s; start it with: systemctl daemon-reload && systemctl enable --now \(product).socket \(product).service")
    }

    func progress(_ line: String) {
        say("fpm-install: \(line)")
    }
}

/// One line of output now: stdout is not a terminal under SwiftPM, and would be buffered.
func say(_ line: String) {
    FileHandle.standardOutput.write(Data((line + "\n").utf8))
}

struct InstallError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}
