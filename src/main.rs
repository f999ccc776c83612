fn main() {
    println!("dashboard-user-operator: not wired yet");
}
