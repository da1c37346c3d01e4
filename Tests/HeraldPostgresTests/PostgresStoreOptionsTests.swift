import HeraldPostgres
import Testing

@Suite struct PostgresStoreOptionsTests {
    @Test func defaultsFollowTheSpec() {
        let options = PostgresStoreOptions(url: "postgres://herald@127.0.0.1:5432/herald")
        #expect(options.poolSize == 8)
        #expect(options.listen)
        #expect(options.password == nil)
    }
}
