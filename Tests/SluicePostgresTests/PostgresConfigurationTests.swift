import SluicePostgres
import Testing

@Suite struct PostgresConfigurationTests {
    @Test func parsesURLIntoLibpqKeywords() throws {
        let config = try PostgresConfiguration("postgres://alice:s3cret@127.0.0.1:6543/features?sslmode=require&application_name=x")
        #expect(config.value(of: "user") == "alice")
        #expect(config.value(of: "password") == "s3cret")
        #expect(config.value(of: "host") == "127.0.0.1")
        #expect(config.value(of: "port") == "6543")
        #expect(config.value(of: "dbname") == "features")
        #expect(config.value(of: "sslmode") == "require")
        #expect(config.applicationName == "x")
    }

    @Test func parsesKeywordString() throws {
        let config = try PostgresConfiguration("host=127.0.0.1 port=5433 dbname=sluice user=bob password='p w' sslmode=disable")
        #expect(config.value(of: "password") == "p w")
        #expect(config.value(of: "sslmode") == "disable")
        #expect(config.value(of: "port") == "5433")
    }

    @Test func descriptionRedactsPassword() throws {
        let url = try PostgresConfiguration("postgresql://alice:TopSecret42@127.0.0.1:5432/db")
        #expect(!url.description.contains("TopSecret42"))
        #expect(url.description.contains("password=*****"))
        #expect(url.description.contains("user=alice"))
        let keywords = try PostgresConfiguration("host=127.0.0.1 password=TopSecret42 dbname=db")
        #expect(!keywords.description.contains("TopSecret42"))
    }

    @Test func overridesConnectTimeoutAndApplicationName() throws {
        let config = try PostgresConfiguration(
            "postgres://u@127.0.0.1:5432/db?connect_timeout=30&application_name=old",
            connectTimeoutSeconds: 3, applicationName: "sluice-worker")
        #expect(config.connectTimeoutSeconds == 3)
        #expect(config.applicationName == "sluice-worker")
        #expect(config.description.contains("connect_timeout=3"))
        #expect(config.description.contains("application_name=sluice-worker"))
        #expect(!config.description.contains("connect_timeout=30"))
    }

    @Test(arguments: [
        "mysql://u:pw@127.0.0.1/db",
        "postgres://u:pw@127.0.0.1:notaport/db",
        "postgres://u:pw@127.0.0.1/db?nosuchoption=1",
        "just some words",
    ])
    func rejectsInvalidText(_ text: String) throws {
        let error = try #require(throws: PostgresError.self) { try PostgresConfiguration(text) }
        #expect(error.code == .invalidConfiguration)
        #expect(error.message.contains("expected"))
        #expect(!error.message.contains("pw@"), "the password must be redacted: \(error.message)")
    }

    @Test func invalidURLMessageNamesTheURLAndTheExpectedForm() throws {
        let error = try #require(throws: PostgresError.self) { try PostgresConfiguration("mysql://u:pw@127.0.0.1/db") }
        #expect(error.message.hasPrefix("invalid PostgreSQL URL 'mysql://u:*****@127.0.0.1/db': expected postgres://user:password@host:port/database"))
    }
}
