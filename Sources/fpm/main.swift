import FPM

// The fpm executable is the FPM library's entry point with the built-in handlers only; an app
// links its own handlers the same way (see examples/hello).
FPMMain.run()
