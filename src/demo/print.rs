//! Printing for people: chapter titles, steps, and what someone sees.

use super::Person;

pub(super) fn title(text: &str) {
    println!(
        "\n{}\n{text}\n{}",
        "=".repeat(text.len().min(100)),
        "=".repeat(text.len().min(100))
    );
}

pub(super) fn step(text: &str) {
    println!("\n▶ {text}");
}

pub(super) fn seen_by(person: &Person, what: &str, body: &str) {
    println!("\n┌─ {} sees {what}:", person.name);
    for line in body.lines() {
        println!("│ {line}");
    }
    println!("└─");
}
