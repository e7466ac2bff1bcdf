import FPM

FPMMain.run(handlers: ["guestbook": GuestbookApp.router()])
