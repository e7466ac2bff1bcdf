import FPM

// A complete fpm executable (php-fpm's flags, config, signals) with one more handler:
// `handler = hello` in a pool runs HelloApp's router. The built-ins (info, cgi) stay available.
FPMMain.run(handlers: ["hello": HelloApp.router()])
