import FPM
import RedisSync

FPMMain.run(handlers: [:])
