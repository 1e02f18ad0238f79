/* mail_entity.c: HTML character references for the text of HTML parts (what SEARCH
 * BODY and the index read, mail_text.c's html_strip). Mailers write umlauts as named
 * entities ("Gr&uuml;&szlig;e", Outlook does so by default), so without them
 * `SEARCH BODY grüße` would miss the HTML-only mail a user sees the word in.
 *
 * Known: numeric references (&#252; &#xFC;), the Latin-1 names of HTML 4 (&nbsp; to
 * &yuml;, in code point order below), and the typographic and other names mail uses
 * (quotes, dashes, the euro). Names are case-sensitive (&Ouml; is not &ouml;), the
 * ';' is required; anything else stays as written. */
#include "mail_int.h"

#include <string.h>

#include <glib.h>

/* U+00A0..U+00FF, in order */
static const char *const latin1[96] = {
	"nbsp", "iexcl", "cent", "pound", "curren", "yen", "brvbar", "sect", "uml", "copy", "ordf", "laquo",
	"not", "shy", "reg", "macr", "deg", "plusmn", "sup2", "sup3", "acute", "micro", "para", "middot",
	"cedil", "sup1", "ordm", "raquo", "frac14", "frac12", "frac34", "iquest", "Agrave", "Aacute", "Acirc",
	"Atilde", "Auml", "Aring", "AElig", "Ccedil", "Egrave", "Eacute", "Ecirc", "Euml", "Igrave", "Iacute",
	"Icirc", "Iuml", "ETH", "Ntilde", "Ograve", "Oacute", "Ocirc", "Otilde", "Ouml", "times", "Oslash",
	"Ugrave", "Uacute", "Ucirc", "Uuml", "Yacute", "THORN", "szlig", "agrave", "aacute", "acirc", "atilde",
	"auml", "aring", "aelig", "ccedil", "egrave", "eacute", "ecirc", "euml", "igrave", "iacute", "icirc",
	"iuml", "eth", "ntilde", "ograve", "oacute", "ocirc", "otilde", "ouml", "divide", "oslash", "ugrave",
	"uacute", "ucirc", "uuml", "yacute", "thorn", "yuml",
};

static const struct {
	const char *name;
	gunichar cp;
} others[] = {
	{ "amp", '&' }, { "lt", '<' }, { "gt", '>' }, { "quot", '"' }, { "apos", '\'' },
	{ "AMP", '&' }, { "LT", '<' }, { "GT", '>' }, { "QUOT", '"' },
	{ "OElig", 0x152 }, { "oelig", 0x153 }, { "Scaron", 0x160 }, { "scaron", 0x161 }, { "Yuml", 0x178 },
	{ "fnof", 0x192 }, { "circ", 0x2c6 }, { "tilde", 0x2dc }, { "ensp", 0x2002 }, { "emsp", 0x2003 },
	{ "thinsp", 0x2009 }, { "zwnj", 0x200c }, { "zwj", 0x200d }, { "lrm", 0x200e }, { "rlm", 0x200f },
	{ "ndash", 0x2013 }, { "mdash", 0x2014 }, { "lsquo", 0x2018 }, { "rsquo", 0x2019 }, { "sbquo", 0x201a },
	{ "ldquo", 0x201c }, { "rdquo", 0x201d }, { "bdquo", 0x201e }, { "dagger", 0x2020 }, { "Dagger", 0x2021 },
	{ "bull", 0x2022 }, { "hellip", 0x2026 }, { "permil", 0x2030 }, { "prime", 0x2032 }, { "Prime", 0x2033 },
	{ "lsaquo", 0x2039 }, { "rsaquo", 0x203a }, { "euro", 0x20ac }, { "trade", 0x2122 }, { "larr", 0x2190 },
	{ "uarr", 0x2191 }, { "rarr", 0x2192 }, { "darr", 0x2193 }, { "harr", 0x2194 }, { "minus", 0x2212 },
	{ "le", 0x2264 }, { "ge", 0x2265 }, { "ne", 0x2260 }, { "infin", 0x221e }, { "asymp", 0x2248 },
};

/* The longest name above, and the most digits a numeric reference may have */
#define NAME_MAX_LEN 8
#define DIGITS_MAX 8

static gunichar named(const char *s, size_t n)
{
	if (n == 0 || n > NAME_MAX_LEN)
		return 0;
	for (size_t i = 0; i < 96; i++) {
		if (strlen(latin1[i]) == n && memcmp(latin1[i], s, n) == 0)
			return 0xa0 + (gunichar)i;
	}
	for (size_t i = 0; i < sizeof(others) / sizeof(others[0]); i++) {
		if (strlen(others[i].name) == n && memcmp(others[i].name, s, n) == 0)
			return others[i].cp;
	}
	return 0;
}

size_t mail_html_entity(const char *s, size_t n, char out[8], size_t *out_len)
{
	if (n < 3 || s[0] != '&')
		return 0;
	gunichar cp = 0;
	size_t j;
	if (s[1] == '#') {
		bool hex = s[2] == 'x' || s[2] == 'X';
		j = hex ? 3 : 2;
		size_t st = j;
		while (j < n && j - st < DIGITS_MAX && (hex ? g_ascii_isxdigit(s[j]) : g_ascii_isdigit(s[j]))) {
			cp = cp * (hex ? 16 : 10) + (gunichar)g_ascii_xdigit_value(s[j]);
			j++;
		}
		if (j == st)
			return 0;
	} else {
		j = 1;
		while (j < n && j - 1 <= NAME_MAX_LEN && g_ascii_isalnum(s[j]))
			j++;
		cp = named(s + 1, j - 1);
	}
	if (j >= n || s[j] != ';' || cp == 0 || cp >= 0x110000 || (cp >= 0xd800 && cp < 0xe000))
		return 0;
	/* &nbsp; and its kin are white space to a search, as a space is */
	if (cp == 0xa0 || cp == 0x2002 || cp == 0x2003 || cp == 0x2009)
		cp = ' ';
	*out_len = (size_t)g_unichar_to_utf8(cp, out);
	return j + 1;
}
