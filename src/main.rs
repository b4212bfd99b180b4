fn main() {
    println!("knockon");
}
