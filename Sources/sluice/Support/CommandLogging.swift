import ArgumentParser
import Foundation
import Logging

/// Sets up swift-log for the command line: human-readable lines on standard error at the chosen level.
enum CommandLogging {
    static func bootstrap(level: Logger.Level = .info) {
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = level
            return handler
        }
    }

    static func logger(_ label: String = "sluice") -> Logger {
        Logger(label: label)
    }
}

extension Logger.Level: @retroactive ExpressibleByArgument {}
