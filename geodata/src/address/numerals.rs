//! Chinese numerals in address numbers (三十五號, 二段, 十二樓).

/// Value of a run of Chinese numeral characters (一 … 九, 零/〇, 十, 百, 千),
/// e.g. 三十五 → 35, 十二 → 12, 一百零五 → 105. None if the run is empty or
/// holds another character.
pub fn parse_chinese_number(s: &str) -> Option<u32> {
    if s.is_empty() {
        return None;
    }
    let (mut total, mut digit) = (0u32, None::<u32>);
    for c in s.chars() {
        let unit = match c {
            '十' | '拾' => 10,
            '百' | '佰' => 100,
            '千' | '仟' => 1000,
            _ => {
                let d = digit_value(c)?;
                digit = Some(match digit {
                    // 二〇五 style: digits written one by one.
                    Some(prev) if prev != 0 || d != 0 => prev * 10 + d,
                    _ => d,
                });
                continue;
            }
        };
        total += digit.take().unwrap_or(1) * unit;
    }
    Some(total + digit.unwrap_or(0))
}

pub fn digit_value(c: char) -> Option<u32> {
    Some(match c {
        '零' | '〇' | '○' => 0,
        '一' | '壹' => 1,
        '二' | '貳' | '兩' => 2,
        '三' | '參' => 3,
        '四' | '肆' => 4,
        '五' | '伍' => 5,
        '六' | '陸' => 6,
        '七' | '柒' => 7,
        '八' | '捌' => 8,
        '九' | '玖' => 9,
        _ => return None,
    })
}

pub fn is_numeral(c: char) -> bool {
    digit_value(c).is_some() || matches!(c, '十' | '拾' | '百' | '佰' | '千' | '仟')
}

/// Characters after which a number is an address number, not part of a name.
fn is_unit(c: char) -> bool {
    matches!(c, '段' | '巷' | '弄' | '號' | '樓' | '鄰' | '之' | '-')
}

/// Rewrites Chinese numeral runs that stand before a unit (二段, 三十五號)
/// or after 之 (號之一) as ASCII digits; numerals inside names (中正一路,
/// 三民里, 十全路) are left alone.
pub fn arabize(text: &str) -> String {
    let chars: Vec<char> = text.chars().collect();
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    while i < chars.len() {
        if is_numeral(chars[i]) {
            let start = i;
            while i < chars.len() && is_numeral(chars[i]) {
                i += 1;
            }
            let run: String = chars[start..i].iter().collect();
            let before_unit = chars.get(i).is_some_and(|&c| is_unit(c));
            let after_zhi = start > 0 && chars[start - 1] == '之';
            match parse_chinese_number(&run) {
                Some(n) if before_unit || after_zhi => out.push_str(&n.to_string()),
                _ => out.push_str(&run),
            }
        } else {
            out.push(chars[i]);
            i += 1;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers() {
        assert_eq!(parse_chinese_number("三十五"), Some(35));
        assert_eq!(parse_chinese_number("十二"), Some(12));
        assert_eq!(parse_chinese_number("二十"), Some(20));
        assert_eq!(parse_chinese_number("一百零五"), Some(105));
        assert_eq!(parse_chinese_number("二〇五"), Some(205));
        assert_eq!(parse_chinese_number("七"), Some(7));
        assert_eq!(parse_chinese_number("路"), None);
    }

    #[test]
    fn only_numbers_before_units_change() {
        assert_eq!(arabize("中正一路二段三十五號之一"), "中正一路2段35號之1");
        assert_eq!(arabize("三民里十二鄰"), "三民里12鄰");
    }
}
