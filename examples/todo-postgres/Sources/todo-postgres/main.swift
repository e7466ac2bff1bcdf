import FPM

FPMMain.run(handlers: ["todos": TodoApp.router()])
