import Testing
@testable import SluiceConfiguration

@Suite struct RedactionTests {
    private let secrets = ["pg-Pa55word", "http-T0ken", "kafka-Pa55", "oauth-S3cret", "client-s3cret"]

    private func configWithSecrets() throws -> SluiceConfig {
        try load(minimalSource + "\n" + minimalFeatures + """

            kafka:
              properties:
                sasl.username: svc
                sasl.password: kafka-Pa55
                sasl.oauthbearer.config: oauth-S3cret
                ssl.key.password: client-s3cret
            postgres:
              url: postgres://app:pg-Pa55word@db.internal:5432/sluice?sslmode=require
            http:
              token: http-T0ken
            """).config
    }

    @Test func renderedConfigNeverShowsASecret() throws {
        let rendered = try configWithSecrets().renderEffective()
        for secret in secrets {
            #expect(!rendered.contains(secret), "\(secret) leaked")
        }
        #expect(rendered.contains("url: \"postgres://app:<redacted>@db.internal:5432/sluice?sslmode=require\""))
        #expect(rendered.contains("token: \"<redacted>\""))
        #expect(rendered.contains("sasl.password: \"<redacted>\""))
        #expect(rendered.contains("sasl.oauthbearer.config: \"<redacted>\""))
        #expect(rendered.contains("sasl.username: \"svc\""))
    }

    @Test func descriptionsDebugDescriptionsAndDumpsNeverShowASecret() throws {
        let config = try configWithSecrets()
        var dumped = ""
        dump(config, to: &dumped)
        let texts = [
            String(describing: config), String(reflecting: config), "\(config)", dumped,
            String(describing: config.postgres), String(reflecting: config.kafka), String(describing: config.kafka.properties),
            String(reflecting: config.http), String(describing: config.postgres.url), "\(config.http.token as Any)",
        ]
        for text in texts {
            for secret in secrets {
                #expect(!text.contains(secret), "\(secret) leaked in: \(text.prefix(200))")
            }
        }
        #expect(String(describing: config.postgres.url) == "postgres://app:<redacted>@db.internal:5432/sluice?sslmode=require")
        #expect(config.postgres.url.value.contains("pg-Pa55word"))
    }

    @Test(arguments: [
        ("postgres://user:pw@host/db", "postgres://user:<redacted>@host/db"),
        ("postgresql://user@host:5432/db", "postgresql://user@host:5432/db"),
        ("postgres://user:p@ss/w@host/db", "postgres://user:<redacted>@host/db"),
        ("postgres://host/db?user=u&password=pw&sslmode=disable", "postgres://host/db?user=u&password=<redacted>&sslmode=disable"),
        ("host=db user=u password=pw dbname=x", "host=db user=u password=<redacted> dbname=x"),
        ("host=db password = 'p w' dbname=x", "host=db password=<redacted> dbname=x"),
    ])
    func postgresPasswordsAreRedactedInEveryForm(url: String, expected: String) {
        #expect(PostgresURLRedaction.redact(url) == expected)
    }

    @Test func kafkaSecretKeysAreRecognised() {
        #expect(KafkaProperties.isSecret(key: "sasl.password"))
        #expect(KafkaProperties.isSecret(key: "ssl.key.password"))
        #expect(KafkaProperties.isSecret(key: "sasl.oauthbearer.client.secret"))
        #expect(KafkaProperties.isSecret(key: "sasl.oauthbearer.token.endpoint.url"))
        #expect(!KafkaProperties.isSecret(key: "sasl.username"))
        #expect(!KafkaProperties.isSecret(key: "security.protocol"))
    }

    @Test func errorMessagesForSecretValuesDoNotEchoThem() {
        let errors = loadErrors(minimalSource + "\n" + minimalFeatures, env: ["SLUICE_HTTP_TOKEN": "has space-S3cret"])
        #expect(errors.errors.count == 1)
        #expect(!errors.description.contains("S3cret"))
    }
}
