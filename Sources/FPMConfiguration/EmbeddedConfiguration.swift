/// The configuration swift-fpm runs with when no file is given or found (`fpm` with no `-y`):
/// one pool `www` on 127.0.0.1:9000 serving the `info` handler, with status and ping pages,
/// logging to stderr in the foreground, with no pid file: `fpmctl` finds the master `swift run
/// fpm` started by its state file in the master's private runtime folder (a pid file in a
/// world-writable /tmp is a name any local user could plant first). Workers run as `nobody` when the master is root (as
/// php-fpm, swift-fpm refuses root workers without -R; a non-root master ignores `user`). `conf/fpm.conf` and `conf/pool.d/www.conf` ship the
/// same values, commented, for users to copy.
public enum EmbeddedConfiguration {
    public static let text = """
        ; swift-fpm built-in configuration (used when no configuration file is found).

        [global]
        error_log = /dev/stderr
        daemonize = no

        [www]
        user = nobody
        listen = 127.0.0.1:9000
        pm = dynamic
        pm.max_children = 5
        pm.start_servers = 2
        pm.min_spare_servers = 1
        pm.max_spare_servers = 3
        pm.status_path = /status
        ping.path = /ping
        handler = info

        """
}
