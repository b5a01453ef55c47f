fn main() {
    eprintln!("connector-wazuh: under construction");
    std::process::exit(2);
}
