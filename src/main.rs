fn main() -> anyhow::Result<()> {
    api::cli::run()
}
