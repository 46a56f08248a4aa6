/// A name as staff see it by default: the family name, the rest starred.
pub fn masked_name(name: &str) -> String {
    let mut chars = name.chars();
    match chars.next() {
        Some(first) => format!("{first}{}", "*".repeat(chars.count().max(1))),
        None => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_first_character_shows() {
        assert_eq!(masked_name("张三丰"), "张**");
        assert_eq!(masked_name("李"), "李*");
        assert_eq!(masked_name(""), "");
    }
}
