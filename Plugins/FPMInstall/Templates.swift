/// The generated files' text. The units follow examples/systemd/ (Type=notify: the master
/// says READY=1, RELOADING=1/READY=1 around a reload, STOPPING=1; socket activation through
/// LISTEN_FDS), named after the app so that several apps can live on one host.
enum Templates {
    static func mainConfiguration(_ layout: Layout) -> String {
        """
        ; \(layout.name): swift-fpm's main configuration (php-fpm's format), written by fpm-install.
        ; Kept across reinstalls (a newer one is written beside it as fpm.conf.new).
        [global]
        pid = \(layout.pidFile)
        error_log = \(layout.logDir)/error.log
        ; systemd supervises the master (\(layout.name).service runs it with --nodaemonize).
        daemonize = no
        include = pool.d/*.conf

        """
    }

    static func defaultPool(name: String) -> String {
        """
        ; The pool of \(name), written by fpm-install (no pool file was given): edit it,
        ; a reinstall keeps it. The socket unit listens on the same address.
        [\(name)]
        user = www-data
        group = www-data
        listen = 127.0.0.1:9000
        handler = \(name)
        pm = dynamic
        pm.max_children = 8
        pm.start_servers = 2
        pm.min_spare_servers = 1
        pm.max_spare_servers = 3
        ping.path = /ping
        access.log = /var/log/\(name)/access.log

        """
    }

    static func service(_ layout: Layout) -> String {
        let config = layout.mainConfig
        return """
        # \(layout.name) under systemd, written by swift-fpm's fpm-install. The master speaks the
        # notify protocol itself: READY=1 once its workers serve, RELOADING=1/READY=1 around a
        # reload, STOPPING=1, STATUS= lines, WATCHDOG=1.
        #   systemctl daemon-reload && systemctl enable --now \(layout.name).socket \(layout.name).service

        [Unit]
        Description=\(layout.name) (FastCGI application server on swift-fpm)
        Documentation=man:\(layout.name)(1)
        After=network.target
        Requires=\(layout.name).socket

        [Service]
        Type=notify
        ExecStart=\(layout.binary) --nodaemonize --fpm-config \(config)
        # Graceful: the new configuration is checked first; fpmctl waits for the new generation
        # and fails, naming the directive, if the configuration was refused.
        ExecReload=\(layout.fpmctl) --fpm-config \(config) reload
        # SIGQUIT lets in-flight requests finish; SIGTERM would stop at once.
        KillSignal=SIGQUIT
        TimeoutStopSec=60
        KillMode=mixed
        WatchdogSec=30
        Restart=on-failure
        PrivateTmp=true
        # \(layout.logDir), where the configuration logs, created at start when missing.
        LogsDirectory=\(layout.name)

        [Install]
        WantedBy=multi-user.target
        Also=\(layout.name).socket

        """
    }

    static func socket(_ layout: Layout, listens: [PoolFile.Listen]) -> String {
        var lines: [String] = []
        for listen in listens { lines.append("ListenStream=\(listen.address)") }
        // One name for the unit's sockets: a pool matches by it only when it is the only pool.
        if listens.count == 1, let only = listens.first { lines.append("FileDescriptorName=\(only.pool)") }
        if let unix = listens.first(where: { $0.address.hasPrefix("/") }) {
            lines.append("SocketMode=\(unix.mode ?? "0660")")
            if let owner = unix.owner { lines.append("SocketUser=\(owner)") }
            if let group = unix.group { lines.append("SocketGroup=\(group)") }
        }
        return """
        # \(layout.name)'s listening sockets, written by swift-fpm's fpm-install: systemd binds the
        # pools' `listen` addresses and passes them to the master (LISTEN_FDS), which serves each
        # pool from the socket bound to its address. Connections wait in the kernel's queue while
        # the service restarts.

        [Unit]
        Description=\(layout.name) listening sockets
        PartOf=\(layout.name).service

        [Socket]
        \(lines.joined(separator: "\n"))
        Backlog=511

        [Install]
        WantedBy=sockets.target

        """
    }

    /// Rotates what the configuration writes under the log folder; the master reopens its logs
    /// (fpmctl reopen fails, and logrotate reports it, if one could not be reopened). With the
    /// master stopped there is nothing to reopen, and that is not an error.
    static func logrotate(_ layout: Layout) -> String {
        """
        # logrotate for \(layout.name), written by swift-fpm's fpm-install.
        \(layout.logDir)/*.log {
            weekly
            rotate 12
            missingok
            notifempty
            compress
            delaycompress
            sharedscripts
            postrotate
                if [ -s \(layout.pidFile) ] && kill -0 "$(cat \(layout.pidFile))" 2>/dev/null; then \(layout.fpmctl) --fpm-config \(layout.mainConfig) reopen >/dev/null; fi
            endscript
        }

        """
    }
}
