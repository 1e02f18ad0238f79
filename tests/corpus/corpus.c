/* corpus.c: the mail generator (corpus.h). Each template picks a language, a
 * sender, a subject and paragraphs from pools, and fills them with random names,
 * amounts, dates and links; ham and spam share much of the everyday vocabulary
 * (offers, invoices, accounts, links), so the filter has to learn, not match. */
#include "corpus.h"

#include <stdio.h>
#include <string.h>

#define N(a) (sizeof(a) / sizeof((a)[0]))

static uint64_t next(uint64_t *s)
{
	uint64_t x = *s;
	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	*s = x;
	return x * 0x2545F4914F6CDD1DULL;
}

static size_t pick_n(uint64_t *s, size_t n)
{
	return (size_t)(next(s) % n);
}

#define PICK(s, a) ((a)[pick_n((s), N(a))])

static bool chance(uint64_t *s, unsigned percent)
{
	return next(s) % 100 < percent;
}

static const char *const first_names[] = {
	"Anna",  "Jonas",  "Lena",   "Lukas",  "Marie",  "Felix",   "Sophie", "Paul",   "Emma",     "Max",
	"Julia", "Tobias", "Sarah",  "David",  "Laura",  "Michael", "Katrin", "Stefan", "Jennifer", "Thomas",
	"Emily", "James",  "Olivia", "Daniel", "Jürgen", "Björn",   "Sören",  "Jörg",   "Hannah",   "Ben",
};
static const char *const last_names[] = {
	"Müller",  "Schmidt", "Schneider", "Fischer", "Weber",   "Meyer",  "Wagner",   "Becker", "Hoffmann",
	"Schäfer", "Smith",   "Johnson",   "Brown",   "Taylor",  "Wilson", "Miller",   "Davis",  "Clarke",
	"Koch",    "Richter", "Wolf",      "Neumann", "Schwarz", "Krüger", "Hartmann",
};
static const char *const ham_domains[] = {
	"example.org",       "web.de",          "gmx.net",        "posteo.de",    "mailbox.org", "uni-hamburg.de",
	"firma-beispiel.de", "company.example", "family.example", "tu-berlin.de",
};
static const char *const vendor_domains[] = {
	"stadtwerke-musterstadt.de",
	"telekom.de",
	"vodafone.de",
	"amazon.de",
	"deutschebahn.com",
	"hetzner.com",
	"github.com",
	"dhl.de",
	"ikea.com",
	"zalando.de",
};
static const char *const spam_tlds[] = { "top", "xyz", "click", "info", "biz", "ru", "cn", "online", "shop", "win" };
static const char *const spam_stems[] = {
	"secure", "login",  "verify", "account", "update", "pharma", "meds",    "crypto",  "coin",   "profit", "bonus",
	"lucky",  "winner", "deal",   "cheap",   "best",   "global", "support", "service", "center", "mail",   "pay",
};

/* everyday words both kinds use */
static const char *const common_en[] = {
	"the",     "and",   "you",    "your",    "please", "today", "time",     "information", "account",
	"order",   "team",  "new",    "week",    "more",   "here",  "email",    "link",        "contact",
	"details", "thank", "offer",  "service", "below",  "help",  "customer", "best",        "regards",
	"month",   "now",   "update", "free",    "price",  "click", "online",
};
static const char *const common_de[] = {
	"und",       "der",   "die",           "das",    "ihr",        "ihre",    "bitte",
	"heute",     "zeit",  "informationen", "konto",  "bestellung", "team",    "neu",
	"woche",     "mehr",  "hier",          "link",   "kontakt",    "angebot", "service",
	"danke",     "grüße", "freundlichen",  "kunden", "monat",      "jetzt",   "aktualisierung",
	"kostenlos", "preis", "klicken",       "online",
};
static const char *const ham_en[] = {
	"meeting",   "project",    "draft",     "review",       "tomorrow",   "lunch",    "weekend",   "kids",
	"holiday",   "attached",   "notes",     "agenda",       "slides",     "feedback", "schedule",  "dinner",
	"birthday",  "photos",     "trip",      "garden",       "repository", "release",  "patch",     "deadline",
	"colleague", "conference", "train",     "presentation", "minutes",    "budget",   "quarterly", "library",
	"concert",   "recipe",     "apartment", "landlord",
};
static const char *const ham_de[] = {
	"besprechung", "projekt",  "entwurf",      "morgen",   "mittagessen", "wochenende", "kinder",     "urlaub",
	"anhang",      "notizen",  "tagesordnung", "folien",   "rückmeldung", "termin",     "abendessen", "geburtstag",
	"fotos",       "reise",    "garten",       "kollegen", "konferenz",   "zug",        "vortrag",    "protokoll",
	"haushalt",    "bücherei", "konzert",      "rezept",   "wohnung",     "vermieter",  "schöne",     "grüße",
	"übermorgen",  "straße",   "müssen",       "größe",
};
static const char *const spam_en[] = {
	"viagra",   "cialis",      "pills",           "pharmacy",    "prescription", "bitcoin",
	"crypto",   "investment",  "guaranteed",      "profit",      "millionaire",  "winner",
	"lottery",  "claim",       "prize",           "urgent",      "suspended",    "verify",
	"password", "unusual",     "activity",        "limited",     "exclusive",    "risk",
	"cash",     "wire",        "transfer",        "beneficiary", "inheritance",  "dating",
	"singles",  "hot",         "discount",        "cheap",       "ranking",      "seo",
	"traffic",  "unsubscribe", "congratulations", "selected",    "trading",      "returns",
	"wallet",   "funds",
};
static const char *const spam_de[] = {
	"gewinn",       "gewinner",      "lotterie",           "dringend",      "gesperrt",
	"verifizieren", "passwort",      "ungewöhnliche",      "aktivität",     "exklusiv",
	"risikofrei",   "bargeld",       "überweisung",        "erbschaft",     "rendite",
	"investition",  "kryptowährung", "garantiert",         "potenzmittel",  "apotheke",
	"rezeptfrei",   "bestätigen",    "sicherheitsgründen", "eingeschränkt", "glückwunsch",
	"ausgewählt",   "handel",        "geldbörse",          "sofort",        "verdienen",
};

struct ctx {
	uint64_t *s;
	bool de;
	struct buf *b;
};

/* n words: 45% of the topic, `cross` percent of the other kind's topic (a
 * newsletter's offers, a spammer's everyday words), the rest everyday words. */
static void words(struct ctx *c, const char *const *topic, size_t ntopic, const char *const *other, size_t nother,
		  unsigned cross, unsigned n)
{
	for (unsigned i = 0; i < n; i++) {
		const char *w;
		unsigned r = (unsigned)pick_n(c->s, 100);
		if (r < 45)
			w = topic[pick_n(c->s, ntopic)];
		else if (r < 45 + cross)
			w = other[pick_n(c->s, nother)];
		else
			w = c->de ? PICK(c->s, common_de) : PICK(c->s, common_en);
		buf_printf(c->b, "%s%s", i ? " " : "", w);
	}
	buf_puts(c->b, ".");
}

static void name(uint64_t *s, char *out, size_t n)
{
	snprintf(out, n, "%s %s", PICK(s, first_names), PICK(s, last_names));
}

static void local_part(const char *full, char *out, size_t n)
{
	size_t j = 0;
	for (const char *p = full; *p && j + 1 < n; p++) {
		unsigned char ch = (unsigned char)*p;
		if (ch == ' ')
			out[j++] = '.';
		else if (ch < 0x80)
			out[j++] = (char)(ch >= 'A' && ch <= 'Z' ? ch + 32 : ch);
	}
	out[j] = '\0';
}

static void spam_domain(uint64_t *s, char *out, size_t n)
{
	snprintf(out, n, "%s-%s%u.%s", PICK(s, spam_stems), PICK(s, spam_stems), (unsigned)(next(s) % 1000),
		 PICK(s, spam_tlds));
}

struct tpl {
	const char *name;
	bool html;
	const char *from_name;
	char from[128];
	const char *subject;
	bool list;
	const char *auth;
};

static const char *auth_words(uint64_t *s, bool spam)
{
	if (!spam)
		return chance(s, 90) ? "spf=pass dkim=pass dmarc=pass" : "spf=pass dkim=none dmarc=none";
	switch (pick_n(s, 4)) {
	case 0:
		return "spf=pass dkim=pass dmarc=pass";
	case 1:
		return "spf=fail dkim=none dmarc=fail";
	case 2:
		return "spf=softfail dkim=fail dmarc=fail";
	default:
		return "spf=none dkim=none dmarc=none";
	}
}

static void header(struct ctx *c, const char *hostname, const char *from_name, const char *from, const char *to,
		   const char *subject, bool list, bool spam, const char *ctype)
{
	uint64_t *s = c->s;
	buf_printf(c->b, "Authentication-Results: %s; %s\r\n", hostname, auth_words(s, spam));
	unsigned hops = spam ? 1 + (unsigned)pick_n(s, 6) : 1 + (unsigned)pick_n(s, 3);
	for (unsigned i = 0; i < hops; i++)
		buf_printf(c->b, "Received: from relay%u.example (relay%u.example [192.0.2.%u]) by next.example\r\n", i,
			   i, (unsigned)pick_n(s, 250) + 1);
	buf_printf(c->b, "From: \"%s\" <%s>\r\n", from_name, from);
	buf_printf(c->b, "To: %s\r\n", to);
	if (spam && chance(s, 30))
		buf_printf(c->b, "Reply-To: <claims%u@%s>\r\n", (unsigned)pick_n(s, 100),
			   chance(s, 50) ? "gmail.example" : "replies.example");
	buf_printf(c->b, "Subject: %s\r\n", subject);
	buf_printf(c->b, "Date: Mon, %u Dec 2026 %02u:%02u:00 +0100\r\n", 1 + (unsigned)pick_n(s, 28),
		   (unsigned)pick_n(s, 24), (unsigned)pick_n(s, 60));
	buf_printf(c->b, "Message-ID: <%llx@%s>\r\n", (unsigned long long)next(s), strchr(from, '@') + 1);
	if (list)
		buf_printf(c->b, "List-Id: <news.%s>\r\nList-Unsubscribe: <https://%s/unsubscribe>\r\n",
			   strchr(from, '@') + 1, strchr(from, '@') + 1);
	buf_printf(c->b, "MIME-Version: 1.0\r\nContent-Type: %s\r\n", ctype);
	if (strncmp(ctype, "text/", 5) == 0)
		buf_puts(c->b, "Content-Transfer-Encoding: 8bit\r\n");
	buf_puts(c->b, "\r\n");
}

/* The body paragraphs of one template, as text (html adds tags around them). */
static void body(struct ctx *c, bool spam, int kind, const char *link, bool html, const char *sign)
{
	uint64_t *s = c->s;
	const char *const *topic, *const *other;
	size_t ntopic, nother;
	if (spam) {
		topic = c->de ? spam_de : spam_en;
		ntopic = c->de ? N(spam_de) : N(spam_en);
		other = c->de ? ham_de : ham_en;
		nother = c->de ? N(ham_de) : N(ham_en);
	} else {
		topic = c->de ? ham_de : ham_en;
		ntopic = c->de ? N(ham_de) : N(ham_en);
		other = c->de ? spam_de : spam_en;
		nother = c->de ? N(spam_de) : N(spam_en);
	}
	/* newsletters and invoices sell; spam pretends to be ordinary mail */
	unsigned cross = spam ? 15 : (kind == 4 || kind == 2) ? 20 : 3;
	static const char *const open_en[][3] = {
		{ "Hi,", "Dear customer,", "Hello friend," },
	};
	static const char *const open_de[][3] = {
		{ "Hallo,", "Sehr geehrter Kunde,", "Lieber Freund," },
	};
	const char *greet = c->de ? open_de[0][pick_n(s, 3)] : open_en[0][pick_n(s, 3)];
	buf_printf(c->b, html ? "<html><body><p>%s</p>\r\n<p>" : "%s\r\n\r\n", greet);
	static const char *const ham_lines_en[] = {
		"Could we move the meeting to Thursday afternoon?",
		"I attached the notes from yesterday, please have a look before Friday.",
		"Your invoice for this month is available in your customer account.",
		"Your parcel is on its way and will arrive on Tuesday.",
		"Here is our monthly newsletter with news from the project.",
		"The kids loved the trip, photos are in the shared folder.",
		"The release candidate is tagged, see the changelog for details.",
	};
	static const char *const ham_lines_de[] = {
		"Können wir die Besprechung auf Donnerstag verschieben?",
		"Im Anhang die Notizen von gestern, schau bitte bis Freitag drüber.",
		"Ihre Rechnung für diesen Monat steht in Ihrem Kundenkonto bereit.",
		"Ihr Paket ist unterwegs und kommt am Dienstag an.",
		"Hier ist unser monatlicher Newsletter mit Neuigkeiten aus dem Verein.",
		"Den Kindern hat der Ausflug gefallen, die Fotos liegen im Ordner.",
		"Die Abrechnung der Nebenkosten für die Wohnung ist fertig.",
	};
	static const char *const spam_lines_en[] = {
		"Your account has been suspended due to unusual activity, verify your identity now.",
		"Buy Viagra and Cialis online without prescription, 80% discount today only.",
		"Invest in Bitcoin and earn guaranteed returns of 300% in one week.",
		"Congratulations! Your email was selected as the winner of our international lottery.",
		"I am a lawyer contacting you about an inheritance of 12.5 million dollars.",
		"We can bring your website to the first page of Google with our SEO service.",
		"Hot singles in your area want to meet you tonight.",
	};
	static const char *const spam_lines_de[] = {
		"Ihr Konto wurde aus Sicherheitsgründen eingeschränkt, bestätigen Sie sofort Ihre Daten.",
		"Potenzmittel rezeptfrei aus der Online-Apotheke, heute 80% Rabatt.",
		"Investieren Sie in Kryptowährung und verdienen Sie garantiert 3000 Euro pro Tag.",
		"Herzlichen Glückwunsch! Sie wurden als Gewinner unserer Lotterie ausgewählt.",
		"Ich bin Anwalt und kontaktiere Sie wegen einer Erbschaft von 12,5 Millionen Euro.",
		"Ihre Rechnung ist überfällig, öffnen Sie den Anhang, um eine Mahnung zu vermeiden.",
		"Verdienen Sie von zu Hause aus mit unserem geheimen System.",
	};
	const char *const *lines =
		spam ? (c->de ? spam_lines_de : spam_lines_en) : (c->de ? ham_lines_de : ham_lines_en);
	buf_printf(c->b, "%s ", lines[kind % 7]);
	unsigned paras = 1 + (unsigned)pick_n(s, 3);
	for (unsigned p = 0; p < paras; p++) {
		words(c, topic, ntopic, other, nother, cross, 8 + (unsigned)pick_n(s, 20));
		if (chance(s, 40))
			buf_printf(c->b, " %s", lines[pick_n(s, 7)]);
		buf_puts(c->b, html ? "</p>\r\n<p>" : "\r\n\r\n");
	}
	unsigned amount = 10 + (unsigned)pick_n(s, 5000);
	buf_printf(c->b, c->de ? "Betrag: %u,%02u EUR. " : "Amount: $%u.%02u. ", amount, (unsigned)pick_n(s, 100));
	if (html)
		buf_printf(c->b, "<a href=\"https://%s/%llx\">%s</a></p>\r\n<p>%s</p></body></html>\r\n", link,
			   (unsigned long long)(next(s) & 0xffffff), c->de ? "Hier klicken" : "Click here", sign);
	else
		buf_printf(c->b, "https://%s/%llx\r\n\r\n-- \r\n%s\r\n", link, (unsigned long long)(next(s) & 0xffffff),
			   sign);
}

const char *corpus_message(uint64_t *seed, bool spam, const char *hostname, struct buf *out)
{
	static const char *const ham_kinds[] = { "meeting",    "notes",  "invoice", "shipping",
						 "newsletter", "family", "release" };
	static const char *const spam_kinds[] = { "phishing",    "pharma", "crypto", "lottery",
						  "advance-fee", "seo",    "dating" };
	uint64_t *s = seed;
	struct ctx c = { .s = s, .de = chance(s, 50), .b = out };
	int kind = (int)pick_n(s, 7);
	char fname[80], from[256], link[120], lp[80], to[256], rname[80], rlp[80];
	name(s, fname, sizeof(fname));
	local_part(fname, lp, sizeof(lp));
	name(s, rname, sizeof(rname));
	local_part(rname, rlp, sizeof(rlp));
	snprintf(to, sizeof(to), "\"%s\" <%s@example.test>", rname, rlp);
	const char *from_name = fname;
	bool list = false;
	if (!spam) {
		if (kind == 2 || kind == 3 || kind == 4) { /* vendors and newsletters */
			const char *d = PICK(s, vendor_domains);
			snprintf(from, sizeof(from), "%s@%s", kind == 4 ? "newsletter" : "noreply", d);
			snprintf(link, sizeof(link), "%s%s", chance(s, 50) ? "www." : "", d);
			from_name = d;
			list = kind == 4;
		} else {
			const char *d = PICK(s, ham_domains);
			snprintf(from, sizeof(from), "%s@%s", lp, d);
			snprintf(link, sizeof(link), "%s", chance(s, 50) ? "cloud.example.org" : d);
		}
	} else {
		char d[100];
		spam_domain(s, d, sizeof(d));
		if (kind == 0 && chance(s, 50)) {
			static const char *const brands[] = {
				"PayPal", "Sparkasse", "Amazon", "Apple", "Netflix", "DHL"
			};
			from_name = PICK(s, brands);
			snprintf(from, sizeof(from), "service@%s", d);
		} else {
			snprintf(from, sizeof(from), "%s@%s", chance(s, 50) ? lp : "info", d);
		}
		spam_domain(s, link, sizeof(link));
		list = chance(s, 20);
	}
	static const char *const ham_subj_en[] = { "Meeting on Thursday", "Notes from yesterday",
						   "Your invoice {}",     "Your parcel {} is on its way",
						   "Newsletter {}",       "Photos from the trip",
						   "Release {} tagged" };
	static const char *const ham_subj_de[] = {
		"Besprechung am Donnerstag",  "Notizen von gestern", "Ihre Rechnung {}",
		"Ihr Paket {} ist unterwegs", "Newsletter {}",       "Fotos vom Ausflug",
		"Nebenkostenabrechnung {}"
	};
	static const char *const spam_subj_en[] = { "Urgent: your account is suspended",
						    "Cheap meds online {}% off",
						    "Earn {} dollars a day with Bitcoin",
						    "You won {} EUR!",
						    "Confidential business proposal",
						    "Rank first on Google",
						    "{} singles near you" };
	static const char *const spam_subj_de[] = { "Dringend: Ihr Konto wurde gesperrt",
						    "Potenzmittel {}% billiger",
						    "Verdienen Sie {} Euro am Tag",
						    "Sie haben {} EUR gewonnen!",
						    "Vertrauliches Angebot",
						    "Ihre offene Rechnung {}",
						    "Geheimes System: {} Euro" };
	const char *fmt = spam ? (c.de ? spam_subj_de : spam_subj_en)[kind] : (c.de ? ham_subj_de : ham_subj_en)[kind];
	char subject[160];
	const char *hole = strstr(fmt, "{}");
	if (hole != NULL)
		snprintf(subject, sizeof(subject), "%.*s%u%s", (int)(hole - fmt), fmt, 10 + (unsigned)pick_n(s, 9000),
			 hole + 2);
	else
		snprintf(subject, sizeof(subject), "%s", fmt);
	bool html = chance(s, spam ? 70 : 35);
	bool attach = spam ? (kind == 5 && c.de) || chance(s, 8) : chance(s, 15);
	char sign[120];
	snprintf(sign, sizeof(sign), "%s", spam ? (c.de ? "Ihr Kundenservice" : "Customer Service") : fname);
	if (!attach) {
		header(&c, hostname, from_name, from, to, subject, list, spam,
		       html ? "text/html; charset=utf-8" : "text/plain; charset=utf-8");
		body(&c, spam, kind, link, html, sign);
	} else {
		header(&c, hostname, from_name, from, to, subject, list, spam, "multipart/mixed; boundary=\"b1\"");
		buf_printf(out, "--b1\r\nContent-Type: %s; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n",
			   html ? "text/html" : "text/plain");
		body(&c, spam, kind, link, html, sign);
		const char *ctype =
			spam ? (chance(s, 50) ? "application/zip" : "application/x-msdownload") : "application/pdf";
		const char *ext = spam ? (ctype[12] == 'z' ? "zip" : "exe") : "pdf";
		buf_printf(
			out,
			"--b1\r\nContent-Type: %s; name=\"%s%u.%s\"\r\nContent-Disposition: attachment\r\n"
			"Content-Transfer-Encoding: base64\r\n\r\nJVBERi0xLjQKJcfsj6IKNSAwIG9iago8PC9MZW5ndGggNiAwIFI+Pgpz\r\n"
			"--b1--\r\n",
			ctype, c.de ? "Rechnung" : "invoice", (unsigned)pick_n(s, 10000), ext);
	}
	return spam ? spam_kinds[kind] : ham_kinds[kind];
}
