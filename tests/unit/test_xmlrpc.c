/* rpc/xmlrpc.c: the methodCall/methodResponse parser and XAPI-style
 * emitter.  Byte-exact expectations were checked against Python's
 * xmlrpc.client (loads/dumps) while writing them; see each test. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rpc/xmlrpc.h"
#include "../fuzz/roundtrip.h"

static struct arena A;
static struct buf B;
static struct rpc_call C;
static const char *E;

static int setup(void **state)
{
	arena_init(&A, 0);
	buf_init(&B);
	E = NULL;
	return 0;
}

static int teardown(void **state)
{
	arena_free(&A);
	buf_free(&B);
	return 0;
}

static int parse(const char *s)
{
	return xmlrpc_parse_call(&A, s, strlen(s), &C, &E);
}

#define CALL_HEAD "<methodCall><methodName>m</methodName><params><param>"
#define CALL_TAIL "</param></params></methodCall>"

static char *wrap(const char *value)
{
	size_t n = strlen(CALL_HEAD) + strlen(value) + strlen(CALL_TAIL) + 1;
	char *s = arena_alloc(&A, n);

	snprintf(s, n, "%s%s%s", CALL_HEAD, value, CALL_TAIL);
	return s;
}

/* The single parameter of a call wrapping value (which must parse). */
static const struct xv *param(const char *value)
{
	const char *doc = wrap(value);

	if (parse(doc) != 0)
		fail_msg("'%s' refused: %s", value, E);
	assert_non_null(C.params);
	assert_int_equal(C.params->type, XV_ARRAY);
	assert_int_equal(C.params->len, 1);
	return C.params->u.a[0];
}

/* doc must fail with an error mentioning what, at byte at (or -1). */
static void bad_doc(const char *doc, size_t len, const char *what, long at)
{
	char want[64];

	E = NULL;
	if (xmlrpc_parse_call(&A, doc, len, &C, &E) == 0)
		fail_msg("accepted: %.*s", (int)len, doc);
	assert_non_null(E);
	if (!strstr(E, what))
		fail_msg("error '%s' lacks '%s' (doc %.*s)", E, what, (int)len, doc);
	if (at >= 0) {
		snprintf(want, sizeof(want), "at byte %ld:", at);
		if (!strstr(E, want))
			fail_msg("error '%s' is not %s", E, want);
	}
}

static void bad_value(const char *value, const char *what)
{
	const char *doc = wrap(value);

	bad_doc(doc, strlen(doc), what, -1);
}

static void assert_str(const struct xv *v, const char *s)
{
	assert_non_null(v);
	assert_int_equal(v->type, XV_STRING);
	assert_int_equal(v->len, strlen(s));
	assert_string_equal(v->u.s, s);
}

/* ---------------------------------------------------------------------
 * Parsing: documents */

/* Python 3.11: xmlrpc.client.dumps(('OpaqueRef:abc', {...}),
 * methodname='VM.set_stuff', allow_none=True), verbatim. */
static const char python_call[] =
	"<?xml version='1.0'?>\n<methodCall>\n<methodName>VM.set_stuff</methodName>\n"
	"<params>\n<param>\n<value><string>OpaqueRef:abc</string></value>\n</param>\n"
	"<param>\n<value><struct>\n<member>\n<name>name_label</name>\n"
	"<value><string>vm &lt;1&gt; &amp; \"q\"</string></value>\n</member>\n"
	"<member>\n<name>VCPUs_max</name>\n<value><int>4</int></value>\n</member>\n"
	"<member>\n<name>ratio</name>\n<value><double>0.25</double></value>\n</member>\n"
	"<member>\n<name>ok</name>\n<value><boolean>1</boolean></value>\n</member>\n"
	"<member>\n<name>none</name>\n<value><nil/></value></member>\n"
	"<member>\n<name>tags</name>\n<value><array><data>\n"
	"<value><string>a</string></value>\n<value><string>\xc3\xa9</string></value>\n"
	"</data></array></value>\n</member>\n<member>\n<name>when</name>\n"
	"<value><dateTime.iso8601>20240101T12:00:00</dateTime.iso8601></value>\n"
	"</member>\n<member>\n<name>blob</name>\n<value><base64>\nAAFoaQ==\n</base64></value>\n"
	"</member>\n</struct></value>\n</param>\n</params>\n</methodCall>\n";

static void test_python_call(void **state)
{
	const struct xv *st, *v;

	assert_int_equal(parse(python_call), 0);
	assert_string_equal(C.method, "VM.set_stuff");
	assert_null(C.id);
	assert_int_equal(C.jsonrpc_v2, 0);
	assert_int_equal(C.params->len, 2);
	assert_str(C.params->u.a[0], "OpaqueRef:abc");
	st = C.params->u.a[1];
	assert_int_equal(st->type, XV_STRUCT);
	assert_int_equal(st->len, 8);
	assert_string_equal(st->u.m[0].name, "name_label");
	assert_str(xv_get(st, "name_label"), "vm <1> & \"q\"");
	v = xv_get(st, "VCPUs_max");
	assert_int_equal(v->type, XV_INT);
	assert_int_equal(v->u.i, 4);
	v = xv_get(st, "ratio");
	assert_int_equal(v->type, XV_DOUBLE);
	assert_true(v->u.d == 0.25);
	v = xv_get(st, "ok");
	assert_int_equal(v->type, XV_BOOL);
	assert_int_equal(v->u.b, 1);
	assert_int_equal(xv_get(st, "none")->type, XV_NIL);
	v = xv_get(st, "tags");
	assert_int_equal(v->type, XV_ARRAY);
	assert_int_equal(v->len, 2);
	assert_str(v->u.a[0], "a");
	assert_str(v->u.a[1], "\xc3\xa9");
	v = xv_get(st, "when");
	assert_int_equal(v->type, XV_DATETIME);
	assert_string_equal(v->u.s, "20240101T12:00:00");
	v = xv_get(st, "blob");
	assert_int_equal(v->type, XV_STRING);
	assert_int_equal(v->len, 4);
	assert_memory_equal(v->u.s, "\0\1hi", 4);
	assert_string_equal(st->u.m[7].name, "blob");
}

static void test_no_params(void **state)
{
	assert_int_equal(parse("<methodCall><methodName>system.listMethods"
			       "</methodName></methodCall>"), 0);
	assert_string_equal(C.method, "system.listMethods");
	assert_int_equal(C.params->type, XV_ARRAY);
	assert_int_equal(C.params->len, 0);
	assert_int_equal(parse("<methodCall><methodName>x</methodName>"
			       "<params/></methodCall>"), 0);
	assert_int_equal(C.params->len, 0);
	assert_int_equal(parse("<methodCall><methodName>x</methodName>"
			       "<params> </params></methodCall>"), 0);
	assert_int_equal(C.params->len, 0);
	/* an empty method name is the dispatcher's business */
	assert_int_equal(parse("<methodCall><methodName/></methodCall>"), 0);
	assert_string_equal(C.method, "");
	assert_int_equal(parse("<methodCall><methodName>a&amp;b</methodName>"
			       "</methodCall>"), 0);
	assert_string_equal(C.method, "a&b");
}

static void test_many_params(void **state)
{
	assert_int_equal(parse("<methodCall><methodName>x</methodName><params>"
			       "<param><value>a</value></param>"
			       "<param><value><i4>2</i4></value></param>"
			       "<param><value/></param>"
			       "</params></methodCall>"), 0);
	assert_int_equal(C.params->len, 3);
	assert_str(C.params->u.a[0], "a");
	assert_int_equal(C.params->u.a[1]->u.i, 2);
	assert_str(C.params->u.a[2], "");
}

static void test_prolog(void **state)
{
	static const char *ok[] = {
		"<?xml version=\"1.0\"?><methodCall><methodName>x</methodName></methodCall>",
		"<?xml version='1.0' encoding='UTF-8'?>\n<methodCall><methodName>x</methodName></methodCall>",
		"<?xml version=\"1.0\" encoding=\"utf8\" standalone=\"yes\" ?><methodCall><methodName>x</methodName></methodCall>",
		"<?xml version=\"1.1\" encoding=\"US-ASCII\"?><methodCall><methodName>x</methodName></methodCall>",
		"<?xml version=\"1.0\" encoding=\"ascii\"?><methodCall><methodName>x</methodName></methodCall>",
		"\xef\xbb\xbf<?xml version=\"1.0\"?><methodCall><methodName>x</methodName></methodCall>",
		"\xef\xbb\xbf<methodCall><methodName>x</methodName></methodCall>",
		"<!-- hi --><?pi stuff?>\n<methodCall><methodName>x</methodName></methodCall>\n<!-- bye -->\n",
		"<?xml version=\"1.0\"?>\r\n\r\n<methodCall><methodName>x</methodName></methodCall>\r\n",
		"<?xml version = '1.0' standalone='no'?><methodCall><methodName>x</methodName></methodCall>",
		"<!-- a-b - c --><?pi a?b ? c?><methodCall><methodName>x</methodName></methodCall>",
		"<?xml-stylesheet href='x'?><methodCall><methodName>x</methodName></methodCall>",
	};
	size_t i;

	for (i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		if (parse(ok[i]) != 0)
			fail_msg("'%s' refused: %s", ok[i], E);
		assert_string_equal(C.method, "x");
	}
}

static void test_prolog_errors(void **state)
{
	static const char tail[] = "<methodCall><methodName>x</methodName></methodCall>";
	static const struct { const char *head, *what; } bad[] = {
		{ "<?xml version=\"2.0\"?>", "unsupported XML version" },
		{ "<?xml version=\"1\"?>", "unsupported XML version" },
		{ "<?xml encoding=\"UTF-8\"?>", "without version" },
		{ "<?xml version=\"1.0\" encoding=\"ISO-8859-1\"?>", "unsupported encoding" },
		{ "<?xml version=\"1.0\" encoding=\"UTF-16\"?>", "unsupported encoding" },
		{ "<?xml version=\"1.0\" foo=\"bar\"?>", "bad XML declaration" },
		{ "<?xml version=1.0?>", "bad XML declaration" },
		{ "<?xml version=\"1.0?>", "bad XML declaration" },
		{ "<?xml version\"1.0\"?>", "bad XML declaration" },
		{ "<?xml =\"1.0\"?>", "bad XML declaration" },
		{ "<?xml version=\"1.0\"", "bad XML declaration" },
		{ "<?xml?>", "without version" },
		{ "<?xml version=\"1.0\" encoding=\"utf-8\" encoding=\"latin1\"?>",
		  "unsupported encoding" },
		{ " <?xml version=\"1.0\"?>", "XML declaration not at the start" },
		{ "<!-- c --><?xml version=\"1.0\"?>", "XML declaration not at the start" },
		{ "<?XmL version=\"1.0\"?>", "XML declaration not at the start" },
		{ "<!DOCTYPE methodCall [<!ENTITY x SYSTEM \"file:///etc/passwd\">]>", "DOCTYPE not allowed" },
		{ "<!ELEMENT x>", "unexpected markup" },
		{ "<? nope ?>", "bad processing instruction" },
		{ "<?pi unterminated", "unterminated processing instruction" },
		{ "<!-- unterminated", "unterminated comment" },
		{ "<!-- a -- b -->", "'--' inside a comment" },
		{ "hello", "text not allowed here" },
	};
	char doc[512];
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		snprintf(doc, sizeof(doc), "%s%s", bad[i].head, tail);
		bad_doc(doc, strlen(doc), bad[i].what, -1);
	}
	bad_doc("", 0, "unexpected end of input", 0);
	bad_doc("  \n", 3, "unexpected end of input", 3);
	bad_doc(NULL, 0, "unexpected end of input", 0);
}

static void test_document_errors(void **state)
{
	static const struct { const char *doc, *what; long at; } bad[] = {
		{ "<methodResponse/>", "expected <methodCall>", 0 },
		{ "<methodCall/>", "empty <methodCall>", 0 },
		{ "<methodCall><params/></methodCall>", "expected <methodName>", 12 },
		{ "<methodCall><methodName>x<y/></methodName></methodCall>",
		  "element not allowed in a scalar", 25 },
		{ "<methodCall><methodName>x</methodname></methodCall>",
		  "mismatched end tag", 25 },
		{ "<methodCall><methodName>x</methodName><params><param/></params></methodCall>",
		  "empty <param>", 46 },
		{ "<methodCall><methodName>x</methodName><params><value>1</value></params></methodCall>",
		  "expected <param>", 46 },
		{ "<methodCall><methodName>x</methodName><params><param></param></params></methodCall>",
		  "expected <value>", 53 },
		{ "<methodCall><methodName>x</methodName><params><param><value>1</value><value>2</value></param></params></methodCall>",
		  "expected </param>", 69 },
		{ "<methodCall><methodName>x</methodName><foo/></methodCall>",
		  "expected <params>", 38 },
		{ "<methodCall><methodName>x</methodName></methodCall><x/>",
		  "junk after the document element", 51 },
		{ "<methodCall><methodName>x</methodName></methodCall>junk",
		  "junk after the document element", 51 },
		{ "<methodCall><methodName>x</methodName>text</methodCall>",
		  "text not allowed here", 38 },
		{ "<methodCall><methodName>x</methodName></params></methodCall>",
		  "expected </methodCall>", 38 },
		{ "<methodCall><methodName>x</methodName><params></param></methodCall>",
		  "expected </params>", 46 },
		{ "<methodCall><methodName>x</methodName><!DOCTYPE x></methodCall>",
		  "DOCTYPE not allowed", 38 },
		{ "<methodCall><methodName>x</methodName><!x></methodCall>",
		  "unexpected markup", 38 },
		{ "<methodCall><methodName>x</methodName></ methodCall>",
		  "bad tag", 40 },
		{ "<methodCall><methodName>x</methodName></methodCall x>",
		  "expected '>'", 51 },
		{ "<methodCall ><methodName>x</methodName></methodCall  >", NULL, -1 },
		{ "<methodCall><methodName>x</methodName></methodCall", "expected '>'", 50 },
		{ "<methodCall><methodName>x</methodName><", "bad tag", 39 },
		{ "<methodCall><1/></methodCall>", "bad tag", 13 },
		{ "<methodCall><methodName>x</methodName></methodCall><!-- x",
		  "unterminated comment", 51 },
		{ "<methodCall><methodName>x</methodName></methodCall><?x",
		  "unterminated processing instruction", 51 },
	};
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (!bad[i].what) {
			assert_int_equal(parse(bad[i].doc), 0);
			continue;
		}
		bad_doc(bad[i].doc, strlen(bad[i].doc), bad[i].what, bad[i].at);
	}
}

static void test_attributes(void **state)
{
	const struct xv *v = param("<value a=\"1\" b='2'><string c = \"x>y\">s</string></value>");

	assert_str(v, "s");
	assert_int_equal(parse("<methodCall xmlns:x=\"urn:x\"><methodName>m</methodName></methodCall>"), 0);
	bad_value("<value a=\"1\"b=\"2\">s</value>", "bad attribute");
	bad_value("<value a>s</value>", "expected '=' in attribute");
	bad_value("<value a=1>s</value>", "expected quoted attribute value");
	bad_value("<value a=\"<\">s</value>", "bad attribute value");
	bad_value("<value /a>s</value>", "expected '>' after '/'");
	bad_value("<value =\"1\">s</value>", "bad attribute");
	bad_doc("<methodCall a=\"1", 16, "bad attribute value", -1);
	bad_doc("<methodCall ", 12, "unexpected end of input", 12);
	bad_doc("<methodCall a", 13, "expected '=' in attribute", 13);
	bad_doc("<methodCall a=", 14, "expected quoted attribute value", 14);
}

/* ---------------------------------------------------------------------
 * Parsing: values */

static void test_untyped_strings(void **state)
{
	assert_str(param("<value>OpaqueRef:NULL</value>"), "OpaqueRef:NULL");
	assert_str(param("<value></value>"), "");
	assert_str(param("<value/>"), "");
	assert_str(param("<value>  </value>"), "  ");
	assert_str(param("<value>\n a b \n</value>"), "\n a b \n");
	assert_str(param("<value>a<!-- c -->b</value>"), "ab");
	assert_str(param("<value>a<?pi x?>b</value>"), "ab");
	assert_str(param("<value><![CDATA[<&>]]></value>"), "<&>");
	assert_str(param("<value>x<![CDATA[]]>y</value>"), "xy");
	assert_str(param("<value>a]]b</value>"), "a]]b");
	assert_str(param("<value><![CDATA[a]b]]c]]]></value>"), "a]b]]c]");
	assert_str(param("<value><![CDATA[\xc3\xa9\t]]></value>"), "\xc3\xa9\t");
}

static void test_typed_strings(void **state)
{
	assert_str(param("<value><string>x</string></value>"), "x");
	assert_str(param("<value><string/></value>"), "");
	assert_str(param("<value><string></string></value>"), "");
	assert_str(param("<value>\n  <string> y </string>\n  </value>"), " y ");
	assert_str(param("<value><!-- a --><string>z</string><!-- b --></value>"), "z");
	bad_value("<value>t<string>x</string></value>", "text before a typed value");
	bad_value("<value><string>x</string>t</value>", "text not allowed here");
	bad_value("<value><string>x</string><string>y</string></value>", "expected </value>");
	bad_value("<value><string><i4>1</i4></string></value>", "element not allowed in a scalar");
	bad_value("<value>x</string>", "expected </value>");
	bad_value("<value><foo>x</foo></value>", "unknown value type");
	bad_value("<value><foo/></value>", "unknown value type");
}

static void test_entities(void **state)
{
	assert_str(param("<value>&lt;&gt;&amp;&quot;&apos;</value>"), "<>&\"'");
	assert_str(param("<value>&#65;&#x42;&#x63;&#0000000068;</value>"), "ABcD");
	assert_str(param("<value>&#233;&#x263A;&#x1F600;</value>"),
		   "\xc3\xa9\xe2\x98\xba\xf0\x9f\x98\x80");
	assert_str(param("<value>&#9;&#10;&#13;</value>"), "\t\n\r");
	assert_str(param("<value>&#xD7FF;&#xE000;&#xFFFD;&#x10FFFF;</value>"),
		   "\xed\x9f\xbf\xee\x80\x80\xef\xbf\xbd\xf4\x8f\xbf\xbf");
	assert_str(param("<value><string>a &amp;amp; b</string></value>"), "a &amp; b");
	bad_value("<value>&foo;</value>", "undefined entity");
	bad_value("<value>&lt</value>", "undefined entity");
	bad_value("<value>&LT;</value>", "undefined entity");
	bad_value("<value>& </value>", "undefined entity");
	bad_value("<value>&#;</value>", "bad character reference");
	bad_value("<value>&#x;</value>", "bad character reference");
	bad_value("<value>&#X41;</value>", "bad character reference");
	bad_value("<value>&#12a;</value>", "bad character reference");
	bad_value("<value>&#0;</value>", "U+0000 not allowed");
	bad_value("<value>&#1;</value>", "U+0001 not allowed");
	bad_value("<value>&#x1F;</value>", "U+001F not allowed");
	bad_value("<value>&#xD800;</value>", "U+D800 not allowed");
	bad_value("<value>&#xDFFF;</value>", "U+DFFF not allowed");
	bad_value("<value>&#xFFFE;</value>", "U+FFFE not allowed");
	bad_value("<value>&#xFFFF;</value>", "U+FFFF not allowed");
	bad_value("<value>&#x110000;</value>", "not allowed");
	bad_value("<value>&#99999999999999999999;</value>", "not allowed");
	bad_doc(CALL_HEAD "<value>&#65", strlen(CALL_HEAD) + 11,
		"bad character reference", -1);
	bad_doc(CALL_HEAD "<value>&", strlen(CALL_HEAD) + 8, "undefined entity", -1);
}

static void test_line_ends(void **state)
{
	assert_str(param("<value>a\r\nb\rc\n\rd</value>"), "a\nb\nc\n\nd");
	assert_str(param("<value>a&#13;\r\nb</value>"), "a\r\nb");
	assert_str(param("<value><![CDATA[x\r\ny\rz]]></value>"), "x\ny\nz");
	assert_str(param("<value>\r</value>"), "\n");
}

static void test_text_validation(void **state)
{
	assert_str(param("<value>\xf0\x9f\x98\x80 \xc3\xa9 \xe2\x82\xac \x7f</value>"),
		   "\xf0\x9f\x98\x80 \xc3\xa9 \xe2\x82\xac \x7f");
	bad_value("<value>\x01</value>", "control character not allowed");
	bad_value("<value>a\x1f</value>", "control character not allowed");
	bad_value("<value>\xff</value>", "invalid UTF-8");
	bad_value("<value>\xc0\x80</value>", "invalid UTF-8");        /* overlong */
	bad_value("<value>\xe0\x80\xaf</value>", "invalid UTF-8");    /* overlong */
	bad_value("<value>\xed\xa0\x80</value>", "invalid UTF-8");    /* surrogate */
	bad_value("<value>\xf4\x90\x80\x80</value>", "invalid UTF-8"); /* > 10FFFF */
	bad_value("<value>\xc3</value>", "invalid UTF-8");
	bad_value("<value>\xe2\x82</value>", "invalid UTF-8");
	bad_value("<value>\x80</value>", "invalid UTF-8");
	bad_value("<value>\xef\xbf\xbe</value>", "U+FFFE not allowed");
	bad_value("<value><![CDATA[\x02]]></value>", "control character not allowed");
	bad_value("<value><![CDATA[\xff]]></value>", "invalid UTF-8");
	bad_value("<value><![CDATA[x]]</value>", "unterminated CDATA");
	bad_value("<value>a<!-- x </value>", "unterminated comment");
	bad_value("<value>a<!DOCTYPE x></value>", "DOCTYPE not allowed");
	bad_value("<value>a<!x></value>", "unexpected markup");
	bad_value("<value>a<?xml version='1.0'?></value>", "XML declaration not at the start");
	/* the offset is that of the offending byte */
	bad_doc(CALL_HEAD "<value>ab\x01</value>" CALL_TAIL,
		strlen(CALL_HEAD) + 18 + strlen(CALL_TAIL),
		"control character", (long)strlen(CALL_HEAD) + 9);
	bad_doc(CALL_HEAD "<value>ab\xff</value>" CALL_TAIL,
		strlen(CALL_HEAD) + 18 + strlen(CALL_TAIL),
		"invalid UTF-8", (long)strlen(CALL_HEAD) + 9);
	/* a NUL byte in the body */
	bad_doc(CALL_HEAD "<value>a\0b</value>" CALL_TAIL,
		strlen(CALL_HEAD) + 17 + strlen(CALL_TAIL),
		"control character", (long)strlen(CALL_HEAD) + 8);
}

static void test_ints(void **state)
{
	static const struct { const char *text; int64_t v; } ok[] = {
		{ "0", 0 }, { "42", 42 }, { "-7", -7 }, { "+5", 5 }, { "007", 7 },
		{ "2147483647", 2147483647 }, { "-2147483648", -2147483647 - 1 },
		{ "5000000000", 5000000000 },   /* XAPI takes int64 in any tag */
		{ "9223372036854775807", INT64_MAX },
		{ "-9223372036854775808", INT64_MIN },
	};
	static const char *bad[] = {
		"", " 1", "1 ", "1x", "x", "-", "+", "--1", "1.0", "0x10",
		"9223372036854775808", "-9223372036854775809",
		"99999999999999999999999",
	};
	static const char *tags[] = { "i4", "int", "i8" };
	char buf[128];
	size_t i, t;

	for (t = 0; t < 3; t++) {
		for (i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
			const struct xv *v;

			snprintf(buf, sizeof(buf), "<value><%s>%s</%s></value>",
				 tags[t], ok[i].text, tags[t]);
			v = param(buf);
			assert_int_equal(v->type, XV_INT);
			assert_true(v->u.i == ok[i].v);
		}
		for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
			snprintf(buf, sizeof(buf), "<value><%s>%s</%s></value>",
				 tags[t], bad[i], tags[t]);
			bad_value(buf, "bad or out-of-range integer");
		}
		snprintf(buf, sizeof(buf), "<value><%s/></value>", tags[t]);
		bad_value(buf, "bad or out-of-range integer");
	}
	/* entities decode before conversion */
	assert_int_equal(param("<value><int>&#49;2</int></value>")->u.i, 12);
	/* the offset names the element */
	bad_doc(CALL_HEAD "<value><i4>x</i4></value>" CALL_TAIL,
		strlen(CALL_HEAD) + 25 + strlen(CALL_TAIL),
		"integer", (long)strlen(CALL_HEAD) + 7);
}

static void test_booleans(void **state)
{
	const struct xv *v = param("<value><boolean>1</boolean></value>");

	assert_int_equal(v->type, XV_BOOL);
	assert_int_equal(v->u.b, 1);
	v = param("<value><boolean>0</boolean></value>");
	assert_int_equal(v->type, XV_BOOL);
	assert_int_equal(v->u.b, 0);
	bad_value("<value><boolean>true</boolean></value>", "boolean must be 0 or 1");
	bad_value("<value><boolean>2</boolean></value>", "boolean must be 0 or 1");
	bad_value("<value><boolean></boolean></value>", "boolean must be 0 or 1");
	bad_value("<value><boolean> 1</boolean></value>", "boolean must be 0 or 1");
	bad_value("<value><boolean>10</boolean></value>", "boolean must be 0 or 1");
}

static void test_doubles(void **state)
{
	static const struct { const char *text; double d; } ok[] = {
		{ "0", 0.0 }, { "60.1", 60.1 }, { "-1.5", -1.5 }, { "+2.", 2.0 },
		{ ".5", 0.5 }, { "1e+21", 1e21 }, { "1E3", 1000.0 },
		{ "2.5e-05", 2.5e-5 }, { "4.940656458412465e-324", 5e-324 },
		{ "1.7976931348623157e+308", 1.7976931348623157e308 },
		{ "1e-400", 0.0 },      /* underflow is fine */
		{ "0.30000000000000004", 0.30000000000000004 },
		{ "-inf", -INFINITY }, { "inf", INFINITY },
		{ "000000000000000000000000000000000000000000000000000000000000000000001.5", 1.5 },
	};
	static const char *bad[] = {
		"", ".", "-", "e5", "1e", "1e+", "0x10", "1.2.3", "1,5", " 1",
		"infinity", "Infinity", "NaN", "1e400", "-1e400", "nan(1)", "+inf",
	};
	char buf[256];
	size_t i;

	for (i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		const struct xv *v;

		snprintf(buf, sizeof(buf), "<value><double>%s</double></value>", ok[i].text);
		v = param(buf);
		assert_int_equal(v->type, XV_DOUBLE);
		if (v->u.d != ok[i].d)
			fail_msg("%s -> %.17g", ok[i].text, v->u.d);
	}
	assert_true(isnan(param("<value><double>nan</double></value>")->u.d));
	/* a long number is copied to the arena, which may be full */
	{
		static const char doc[] = CALL_HEAD "<value><double>"
			"0.00000000000000000000000000000000000000000000000000000000000000000001"
			"</double></value>" CALL_TAIL;
		struct arena small;
		size_t need, lim;

		arena_init(&small, 0);
		assert_int_equal(xmlrpc_parse_call(&small, doc, strlen(doc), &C, &E), 0);
		assert_true(C.params->u.a[0]->u.d == 1e-68);
		need = small.used;
		arena_free(&small);
		for (lim = 1; lim < need; lim++) {
			arena_init(&small, lim);
			assert_int_equal(xmlrpc_parse_call(&small, doc, strlen(doc), &C, &E), -1);
			assert_non_null(strstr(E, "exceeds its memory limit"));
			arena_free(&small);
		}
	}
	assert_true(isnan(param("<value><double>-nan</double></value>")->u.d));
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		snprintf(buf, sizeof(buf), "<value><double>%s</double></value>", bad[i]);
		bad_value(buf, "bad or out-of-range double");
	}
}

static void test_datetimes(void **state)
{
	const struct xv *v = param("<value><dateTime.iso8601>20240101T12:00:00Z"
				   "</dateTime.iso8601></value>");

	assert_int_equal(v->type, XV_DATETIME);
	assert_int_equal(v->len, 18);
	assert_string_equal(v->u.s, "20240101T12:00:00Z");
	/* kept as sent, whatever it is: the API layer converts */
	v = param("<value><dateTime.iso8601>whenever</dateTime.iso8601></value>");
	assert_string_equal(v->u.s, "whenever");
	v = param("<value><dateTime.iso8601/></value>");
	assert_int_equal(v->type, XV_DATETIME);
	assert_int_equal(v->len, 0);
}

static void test_base64(void **state)
{
	static const struct { const char *in, *out; size_t n; } ok[] = {
		{ "aGVsbG8=", "hello", 5 }, { "aGVsbA==", "hell", 4 },
		{ "aGVs", "hel", 3 }, { "", "", 0 },
		{ " aGVs\r\n bG8=\n", "hello", 5 }, { "AAE=", "\0\1", 2 },
		{ "+/+/", "\xfb\xff\xbf", 3 },
	};
	static const char *bad[] = {
		"aGVsbG8", "aGVsbG", "a", "a===", "aGVsbG8=x", "aGVs=bG8",
		"aG=sbG8=", "aGVs!G8=", "aGVsbG8==", "====", "=AAA", "A=AA",
	};
	char buf[128];
	size_t i;

	for (i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		const struct xv *v;

		snprintf(buf, sizeof(buf), "<value><base64>%s</base64></value>", ok[i].in);
		v = param(buf);
		assert_int_equal(v->type, XV_STRING);
		assert_int_equal(v->len, ok[i].n);
		assert_memory_equal(v->u.s, ok[i].out, ok[i].n);
		assert_int_equal(v->u.s[v->len], 0);
	}
	assert_int_equal(param("<value><base64/></value>")->len, 0);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		snprintf(buf, sizeof(buf), "<value><base64>%s</base64></value>", bad[i]);
		bad_value(buf, "bad base64");
	}
}

static void test_nil(void **state)
{
	assert_int_equal(param("<value><nil/></value>")->type, XV_NIL);
	assert_int_equal(param("<value><nil></nil></value>")->type, XV_NIL);
	assert_int_equal(param("<value><nil> </nil></value>")->type, XV_NIL);
	bad_value("<value><nil>x</nil></value>", "<nil/> must be empty");
}

static void test_arrays(void **state)
{
	const struct xv *v = param("<value><array><data><value>a</value>"
				   "<value><array><data/></array></value>"
				   "<value><i4>3</i4></value></data></array></value>");

	assert_int_equal(v->type, XV_ARRAY);
	assert_int_equal(v->len, 3);
	assert_str(v->u.a[0], "a");
	assert_int_equal(v->u.a[1]->type, XV_ARRAY);
	assert_int_equal(v->u.a[1]->len, 0);
	assert_int_equal(v->u.a[2]->u.i, 3);
	v = param("<value><array/></value>");
	assert_int_equal(v->type, XV_ARRAY);
	assert_int_equal(v->len, 0);
	v = param("<value><array><data></data></array></value>");
	assert_int_equal(v->len, 0);
	v = param("<value><array>\n <data>\n <!-- x --> <value/>\n </data>\n </array></value>");
	assert_int_equal(v->len, 1);
	assert_str(v->u.a[0], "");
	bad_value("<value><array></array></value>", "expected <data>");
	bad_value("<value><array><value>1</value></array></value>", "expected <data>");
	bad_value("<value><array><data>x</data></array></value>", "text not allowed here");
	bad_value("<value><array><data><i4>1</i4></data></array></value>", "expected <value>");
	bad_value("<value><array><data/><data/></array></value>", "expected </array>");
	bad_value("<value><array><data></array></value>", "expected </data>");
}

static void test_structs(void **state)
{
	const struct xv *v = param("<value><struct><member><name>a&amp;b</name>"
				   "<value>1</value></member><member>\n<name/>"
				   "<value><struct/></value></member>"
				   "<member><name><![CDATA[c]]></name><value/></member>"
				   "</struct></value>");

	assert_int_equal(v->type, XV_STRUCT);
	assert_int_equal(v->len, 3);
	assert_string_equal(v->u.m[0].name, "a&b");
	assert_str(v->u.m[0].v, "1");
	assert_string_equal(v->u.m[1].name, "");
	assert_int_equal(v->u.m[1].v->type, XV_STRUCT);
	assert_int_equal(v->u.m[1].v->len, 0);
	assert_string_equal(v->u.m[2].name, "c");
	v = param("<value><struct></struct></value>");
	assert_int_equal(v->type, XV_STRUCT);
	assert_int_equal(v->len, 0);
	/* duplicate names are kept, in order */
	v = param("<value><struct><member><name>k</name><value>1</value></member>"
		  "<member><name>k</name><value>2</value></member></struct></value>");
	assert_int_equal(v->len, 2);
	assert_str(xv_get(v, "k"), "1");
	bad_value("<value><struct><member/></struct></value>", "empty <member>");
	bad_value("<value><struct><member><value>1</value></member></struct></value>",
		  "expected <name>");
	bad_value("<value><struct><member><name>a</name></member></struct></value>",
		  "expected <value>");
	bad_value("<value><struct><member><name>a</name><value>1</value>"
		  "<value>2</value></member></struct></value>", "expected </member>");
	bad_value("<value><struct><name>a</name></struct></value>", "expected <member>");
	bad_value("<value><struct>x</struct></value>", "text not allowed here");
	bad_value("<value><struct><member><name>a<b/></name><value/></member></struct></value>",
		  "element not allowed in a scalar");
}

static char *nested(const char *open, const char *leaf, const char *close,
		    int depth)
{
	size_t n = (strlen(open) + strlen(close)) * (size_t)depth + strlen(leaf) + 1;
	char *s = arena_alloc(&A, n), *p = s;
	int i;

	for (i = 0; i < depth; i++)
		p += sprintf(p, "%s", open);
	p += sprintf(p, "%s", leaf);
	for (i = 0; i < depth; i++)
		p += sprintf(p, "%s", close);
	return s;
}

static void test_depth(void **state)
{
	const char *ao = "<value><array><data>", *ac = "</data></array></value>";
	const char *so = "<value><struct><member><name>k</name>",
		   *sc = "</member></struct></value>";
	const struct xv *v;
	int i;

	v = param(nested(ao, "<value>x</value>", ac, XMLRPC_MAX_DEPTH));
	for (i = 0; i < XMLRPC_MAX_DEPTH; i++) {
		assert_int_equal(v->type, XV_ARRAY);
		v = v->u.a[0];
	}
	assert_str(v, "x");
	bad_value(nested(ao, "<value>x</value>", ac, XMLRPC_MAX_DEPTH + 1),
		  "nesting deeper than 64");
	param(nested(so, "<value>x</value>", sc, XMLRPC_MAX_DEPTH));
	bad_value(nested(so, "<value>x</value>", sc, XMLRPC_MAX_DEPTH + 1),
		  "nesting deeper than 64");
	bad_value(nested(ao, "<value><array/></value>", ac, XMLRPC_MAX_DEPTH),
		  "nesting deeper than 64");
	bad_value(nested(ao, "<value><struct/></value>", ac, XMLRPC_MAX_DEPTH),
		  "nesting deeper than 64");
}

static void test_wide(void **state)
{
	struct buf doc = BUF_INIT;
	const struct xv *v;
	int i;

	buf_adds(&doc, CALL_HEAD "<value><array><data>");
	for (i = 0; i < 5000; i++)
		buf_addf(&doc, "<value><struct><member><name>n%d</name><value>%d</value>"
			 "</member></struct></value>", i, i);
	buf_adds(&doc, "</data></array></value>" CALL_TAIL);
	assert_int_equal(xmlrpc_parse_call(&A, doc.data, doc.len, &C, &E), 0);
	v = C.params->u.a[0];
	assert_int_equal(v->len, 5000);
	assert_string_equal(v->u.a[4321]->u.m[0].name, "n4321");
	assert_str(v->u.a[4321]->u.m[0].v, "4321");
	buf_free(&doc);
}

/* Every arena limit below what a document needs fails cleanly with the
 * memory error; at the needed size it parses. */
static void test_arena_limits(void **state)
{
	size_t need, lim;
	struct arena small;
	int ok = 0;

	arena_init(&small, 0);
	assert_int_equal(xmlrpc_parse_call(&small, python_call, strlen(python_call), &C, &E), 0);
	need = small.used;
	arena_free(&small);
	assert_true(need > 0);
	for (lim = 1; lim <= need; lim++) {
		arena_init(&small, lim);
		E = NULL;
		if (xmlrpc_parse_call(&small, python_call, strlen(python_call), &C, &E) == 0) {
			ok = 1;
			assert_true(lim == need);
		} else {
			assert_non_null(E);
			if (!strstr(E, "exceeds its memory limit"))
				fail_msg("limit %zu: %s", lim, E);
			assert_true(small.used <= lim);
		}
		arena_free(&small);
	}
	assert_true(ok);
}

/* A proper prefix of a valid document is never valid. */
static void test_truncation(void **state)
{
	size_t len = strlen(python_call), cut;
	size_t root_end = (size_t)(strstr(python_call, "</methodCall>") - python_call) + 13;

	for (cut = 0; cut < root_end; cut++) {
		E = NULL;
		if (xmlrpc_parse_call(&A, python_call, cut, &C, &E) == 0)
			fail_msg("prefix of %zu bytes accepted", cut);
		assert_non_null(E);
		assert_non_null(strstr(E, "at byte "));
	}
	for (; cut <= len; cut++)       /* only trailing whitespace left */
		assert_int_equal(xmlrpc_parse_call(&A, python_call, cut, &C, &E), 0);
}

/* ---------------------------------------------------------------------
 * Responses (client side) */

static void test_parse_response(void **state)
{
	static const char ok[] =
		"<?xml version=\"1.0\"?><methodResponse><params><param><value><struct>"
		"<member><name>Status</name><value>Success</value></member>"
		"<member><name>Value</name><value>OpaqueRef:1</value></member>"
		"</struct></value></param></params></methodResponse>";
	static const char fault[] =
		"<methodResponse><fault><value><struct><member><name>faultCode</name>"
		"<value><int>4</int></value></member><member><name>faultString</name>"
		"<value><string>Too many</string></value></member></struct></value>"
		"</fault></methodResponse>";
	static const char *bad[] = {
		"<methodResponse/>",
		"<methodResponse></methodResponse>",
		"<methodResponse><params/></methodResponse>",
		"<methodResponse><params></params></methodResponse>",
		"<methodResponse><params><param/></params></methodResponse>",
		"<methodResponse><params><param><value>1</value></param>"
		"<param><value>2</value></param></params></methodResponse>",
		"<methodResponse><fault/></methodResponse>",
		"<methodResponse><foo/></methodResponse>",
		"<methodResponse></params></methodResponse>",
		"<methodCall><methodName>x</methodName></methodCall>",
		"<methodResponse><params><param><value>1</value></param></params>"
		"</methodResponse>x",
		"<methodResponse><params><param><value>1</value></param></params>",
	};
	static const char bad_fault[] =
		"<methodResponse><fault><value><i4>x</i4></value></fault></methodResponse>";
	struct xv *r = (struct xv *)1;
	int is_fault = 7;
	size_t i;

	assert_int_equal(xmlrpc_parse_response(&A, bad_fault, strlen(bad_fault), &r,
					       &is_fault, &E), -1);
	assert_null(r);
	assert_non_null(strstr(E, "integer"));

	assert_int_equal(xmlrpc_parse_response(&A, ok, strlen(ok), &r, &is_fault, &E), 0);
	assert_int_equal(is_fault, 0);
	assert_str(xv_get(r, "Status"), "Success");
	assert_str(xv_get(r, "Value"), "OpaqueRef:1");
	assert_int_equal(xmlrpc_parse_response(&A, fault, strlen(fault), &r, &is_fault, &E), 0);
	assert_int_equal(is_fault, 1);
	assert_int_equal(xv_get(r, "faultCode")->u.i, 4);
	assert_str(xv_get(r, "faultString"), "Too many");
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		E = NULL;
		r = (struct xv *)1;
		if (xmlrpc_parse_response(&A, bad[i], strlen(bad[i]), &r, &is_fault, &E) == 0)
			fail_msg("accepted: %s", bad[i]);
		assert_null(r);
		assert_non_null(strstr(E, "at byte "));
	}
	for (i = 0; i < strlen(ok); i++) {
		r = (struct xv *)1;
		assert_int_equal(xmlrpc_parse_response(&A, ok, i, &r, &is_fault, &E), -1);
		assert_null(r);
	}
}

/* ---------------------------------------------------------------------
 * Emitter */

static void emit_init(struct emit *e)
{
	buf_reset(&B);
	xmlrpc_emit_init(e, &B);
}

#define EXPECT(lit) do { \
	assert_int_equal(B.len, sizeof(lit) - 1); \
	assert_memory_equal(B.data, lit, sizeof(lit)); \
} while (0)

static void test_emit_scalars(void **state)
{
	struct emit e;

	emit_init(&e);
	emit_str(&e, "OpaqueRef:NULL");
	EXPECT("<value>OpaqueRef:NULL</value>");
	emit_init(&e);
	emit_str(&e, "");
	EXPECT("<value></value>");
	emit_init(&e);
	emit_str(&e, NULL);
	EXPECT("<value></value>");
	emit_init(&e);
	emit_strn(&e, "a&b<c>d\"e'f", 11);
	EXPECT("<value>a&amp;b&lt;c&gt;d&quot;e'f</value>");
	emit_init(&e);
	emit_strn(&e, "a\x01\x02" "b\tc\nd\re\x0b\x0c\x1f\x7f\xc3\xa9", 16);
	EXPECT("<value>ab\tc\nd\re\x7f\xc3\xa9</value>");     /* XAPI drops C0 */
	emit_init(&e);
	emit_strn(&e, "a\0b", 3);
	EXPECT("<value>ab</value>");
	emit_init(&e);
	emit_i64(&e, 4294967296);
	EXPECT("<value>4294967296</value>");
	emit_init(&e);
	emit_i64(&e, INT64_MIN);
	EXPECT("<value>-9223372036854775808</value>");
	emit_init(&e);
	emit_i64(&e, INT64_MAX);
	EXPECT("<value>9223372036854775807</value>");
	emit_init(&e);
	emit_i32(&e, 5);
	EXPECT("<value><i4>5</i4></value>");
	emit_init(&e);
	emit_i32(&e, INT32_MIN);
	EXPECT("<value><i4>-2147483648</i4></value>");
	emit_init(&e);
	emit_bool(&e, 1);
	EXPECT("<value><boolean>1</boolean></value>");
	emit_init(&e);
	emit_bool(&e, 42);
	EXPECT("<value><boolean>1</boolean></value>");
	emit_init(&e);
	emit_bool(&e, 0);
	EXPECT("<value><boolean>0</boolean></value>");
	emit_init(&e);
	emit_nil(&e);
	EXPECT("<value><nil/></value>");
	emit_init(&e);
	emit_double(&e, 60.1);
	EXPECT("<value><double>60.1</double></value>");
	emit_init(&e);
	emit_double(&e, 1.0);
	EXPECT("<value><double>1</double></value>");
	emit_init(&e);
	emit_double(&e, 819.56);
	EXPECT("<value><double>819.5599999999999</double></value>");
	emit_init(&e);
	emit_double(&e, NAN);
	EXPECT("<value><double>nan</double></value>");
	emit_init(&e);
	emit_double(&e, -INFINITY);
	EXPECT("<value><double>-inf</double></value>");
	emit_init(&e);
	emit_datetime(&e, 1704110400);
	EXPECT("<value><dateTime.iso8601>20240101T12:00:00Z</dateTime.iso8601></value>");
	emit_init(&e);
	e.ops->datetime_str(&e, "a<b", 3);
	EXPECT("<value><dateTime.iso8601>a&lt;b</dateTime.iso8601></value>");
	assert_int_equal(e.error, 0);
}

static void test_emit_containers(void **state)
{
	struct emit e;

	emit_init(&e);
	emit_array_begin(&e);
	emit_array_end(&e);
	EXPECT("<value><array><data></data></array></value>");
	emit_init(&e);
	emit_struct_begin(&e);
	emit_struct_end(&e);
	EXPECT("<value><struct></struct></value>");
	emit_init(&e);
	emit_struct_begin(&e);
	emit_member(&e, "a<b");
	emit_array_begin(&e);
	emit_str(&e, "x");
	emit_struct_begin(&e);
	emit_struct_end(&e);
	emit_array_end(&e);
	emit_member(&e, "k");
	emit_i64(&e, 1);
	emit_struct_end(&e);
	EXPECT("<value><struct><member><name>a&lt;b</name><value><array><data>"
	       "<value>x</value><value><struct></struct></value></data></array>"
	       "</value></member><member><name>k</name><value>1</value></member>"
	       "</struct></value>");
	assert_int_equal(e.depth, 0);
	assert_int_equal(e.error, 0);
}

static void test_emit_depth(void **state)
{
	struct emit e;
	size_t len;
	int i;

	emit_init(&e);
	for (i = 0; i < EMIT_MAX_DEPTH; i++)
		emit_array_begin(&e);
	assert_int_equal(e.error, 0);
	assert_int_equal(e.depth, EMIT_MAX_DEPTH);
	len = B.len;
	emit_struct_begin(&e);
	assert_int_equal(e.error, 1);
	/* nothing further is written, whatever is called */
	emit_str(&e, "x");
	emit_nil(&e);
	emit_i64(&e, 1);
	emit_i32(&e, 1);
	emit_bool(&e, 1);
	emit_double(&e, 1);
	emit_datetime(&e, 1);
	emit_member(&e, "m");
	emit_array_begin(&e);
	emit_array_end(&e);
	emit_struct_end(&e);
	e.ops->datetime_str(&e, "x", 1);
	assert_int_equal(B.len, len);
	/* unbalanced ends are errors too */
	emit_init(&e);
	emit_array_end(&e);
	assert_int_equal(e.error, 1);
	assert_int_equal(B.len, 0);
	emit_init(&e);
	emit_struct_end(&e);
	assert_int_equal(e.error, 1);
	assert_int_equal(B.len, 0);
}

/* The emitter skips plain bytes a word at a time: check it against a
 * byte-by-byte reference for every byte value at every position of a
 * 24-byte string (three words, and unaligned starts). */
static void ref_escape(struct buf *b, const unsigned char *s, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		switch (s[i]) {
		case '&': buf_adds(b, "&amp;"); break;
		case '<': buf_adds(b, "&lt;"); break;
		case '>': buf_adds(b, "&gt;"); break;
		case '"': buf_adds(b, "&quot;"); break;
		case '\t': case '\n': case '\r': buf_addc(b, (char)s[i]); break;
		default:
			if (s[i] >= 0x20)
				buf_addc(b, (char)s[i]);
		}
	}
}

static void test_escape_every_byte(void **state)
{
	struct buf want = BUF_INIT;
	unsigned char s[32];
	struct emit e;
	unsigned c;
	size_t pos, off;

	for (c = 0; c < 256; c++) {
		for (off = 0; off < 3; off++) {
			for (pos = 0; pos < 24; pos++) {
				memset(s, 'a' + (int)off, sizeof(s));
				s[off + pos] = (unsigned char)c;
				s[off + 23 - pos] = (unsigned char)(c ^ 0x22);
				emit_init(&e);
				emit_strn(&e, (const char *)s + off, 24);
				buf_reset(&want);
				buf_adds(&want, "<value>");
				ref_escape(&want, s + off, 24);
				buf_adds(&want, "</value>");
				if (B.len != want.len || memcmp(B.data, want.data, B.len))
					fail_msg("byte %02x at %zu: '%s' want '%s'", c, pos,
						 B.data, want.data);
			}
		}
	}
	buf_free(&want);
}

static void test_xml_escape(void **state)
{
	buf_reset(&B);
	xml_escape(&B, "<a href='x' t=\"y\">&\x01</a>", 24);
	EXPECT("&lt;a href=&apos;x&apos; t=&quot;y&quot;&gt;&amp;&lt;/a&gt;");
}

static void test_framing(void **state)
{
	struct emit e;

	buf_reset(&B);
	xmlrpc_emit_init(&e, &B);
	xmlrpc_response_begin(&B);
	emit_str(&e, "x");
	xmlrpc_response_end(&B);
	EXPECT("<?xml version=\"1.0\"?><methodResponse><params><param>"
	       "<value>x</value></param></params></methodResponse>");
	buf_reset(&B);
	xmlrpc_call_begin(&B, "session.login_with_password&");
	xmlrpc_param_begin(&B);
	emit_str(&e, "root");
	xmlrpc_param_end(&B);
	xmlrpc_param_begin(&B);
	emit_str(&e, "pw");
	xmlrpc_param_end(&B);
	xmlrpc_call_end(&B);
	EXPECT("<?xml version=\"1.0\"?><methodCall><methodName>"
	       "session.login_with_password&amp;</methodName><params>"
	       "<param><value>root</value></param><param><value>pw</value></param>"
	       "</params></methodCall>");
	assert_int_equal(parse(B.data), 0);
	assert_string_equal(C.method, "session.login_with_password&");
	assert_int_equal(C.params->len, 2);
}

/* The bytes below were fed to Python 3.11's xmlrpc.client.loads and gave
 * ({'Status': 'Success', 'Value': {'uuid': '5e1f...0001',
 * 'name_label': 'a<b>&"c"\'d é', 'memory_static_max': '4294967296',
 * 'VCPUs_max': '-1', 'is_a_template': False, 'start_time':
 * <DateTime '20240101T12:00:00Z'>, 'VCPUs_utilisation': {'0': 0.25},
 * 'tags': ['x', ''], 'other_config': {}, 'blocked': [], 'nothing': None,
 * 'count': 7, 'big': 1e+21}},). */
static const char xapi_record[] =
	"<?xml version=\"1.0\"?><methodResponse><params><param><value><struct>"
	"<member><name>Status</name><value>Success</value></member>"
	"<member><name>Value</name><value><struct>"
	"<member><name>uuid</name><value>5e1f6c1a-0000-4000-8000-000000000001</value></member>"
	"<member><name>name_label</name><value>a&lt;b&gt;&amp;&quot;c&quot;'d \xc3\xa9</value></member>"
	"<member><name>memory_static_max</name><value>4294967296</value></member>"
	"<member><name>VCPUs_max</name><value>-1</value></member>"
	"<member><name>is_a_template</name><value><boolean>0</boolean></value></member>"
	"<member><name>start_time</name><value><dateTime.iso8601>20240101T12:00:00Z"
	"</dateTime.iso8601></value></member>"
	"<member><name>VCPUs_utilisation</name><value><struct><member><name>0</name>"
	"<value><double>0.25</double></value></member></struct></value></member>"
	"<member><name>tags</name><value><array><data><value>x</value><value></value>"
	"</data></array></value></member>"
	"<member><name>other_config</name><value><struct></struct></value></member>"
	"<member><name>blocked</name><value><array><data></data></array></value></member>"
	"<member><name>nothing</name><value><nil/></value></member>"
	"<member><name>count</name><value><i4>7</i4></value></member>"
	"<member><name>big</name><value><double>1e+21</double></value></member>"
	"</struct></value></member></struct></value></param></params></methodResponse>";

static void emit_record(struct emit *e)
{
	emit_struct_begin(e);
	emit_member(e, "Status");
	emit_str(e, "Success");
	emit_member(e, "Value");
	emit_struct_begin(e);
	emit_member(e, "uuid");
	emit_str(e, "5e1f6c1a-0000-4000-8000-000000000001");
	emit_member(e, "name_label");
	emit_str(e, "a<b>&\"c\"'d \xc3\xa9");
	emit_member(e, "memory_static_max");
	emit_i64(e, 4294967296);
	emit_member(e, "VCPUs_max");
	emit_i64(e, -1);
	emit_member(e, "is_a_template");
	emit_bool(e, 0);
	emit_member(e, "start_time");
	emit_datetime(e, 1704110400);
	emit_member(e, "VCPUs_utilisation");
	emit_struct_begin(e);
	emit_member(e, "0");
	emit_double(e, 0.25);
	emit_struct_end(e);
	emit_member(e, "tags");
	emit_array_begin(e);
	emit_str(e, "x");
	emit_str(e, "");
	emit_array_end(e);
	emit_member(e, "other_config");
	emit_struct_begin(e);
	emit_struct_end(e);
	emit_member(e, "blocked");
	emit_array_begin(e);
	emit_array_end(e);
	emit_member(e, "nothing");
	emit_nil(e);
	emit_member(e, "count");
	emit_i32(e, 7);
	emit_member(e, "big");
	emit_double(e, 1e21);
	emit_struct_end(e);
	emit_struct_end(e);
}

static void test_python_checked_record(void **state)
{
	struct emit e;
	struct xv *r;
	int is_fault;

	buf_reset(&B);
	xmlrpc_emit_init(&e, &B);
	xmlrpc_response_begin(&B);
	emit_record(&e);
	xmlrpc_response_end(&B);
	assert_int_equal(e.error, 0);
	EXPECT(xapi_record);
	/* and our own reader agrees with Python's */
	assert_int_equal(xmlrpc_parse_response(&A, B.data, B.len, &r, &is_fault, &E), 0);
	assert_int_equal(is_fault, 0);
	r = (struct xv *)xv_get(r, "Value");
	assert_str(xv_get(r, "name_label"), "a<b>&\"c\"'d \xc3\xa9");
	assert_str(xv_get(r, "memory_static_max"), "4294967296");
	assert_int_equal(xv_get(r, "count")->type, XV_INT);
	assert_int_equal(xv_get(r, "count")->u.i, 7);
	assert_true(xv_get(xv_get(r, "VCPUs_utilisation"), "0")->u.d == 0.25);
	assert_string_equal(xv_get(r, "start_time")->u.s, "20240101T12:00:00Z");
	assert_int_equal(xv_get(r, "nothing")->type, XV_NIL);
	assert_int_equal(xv_get(r, "tags")->len, 2);
}

/* decode -> emit_value -> decode, as the fuzzer does. */
static void round_trip(const char *doc, size_t len)
{
	struct rpc_call c2;
	struct emit e;
	size_t i;

	if (xmlrpc_parse_call(&A, doc, len, &C, &E) != 0)
		fail_msg("refused: %s", E);
	buf_reset(&B);
	xmlrpc_emit_init(&e, &B);
	xmlrpc_call_begin(&B, C.method);
	for (i = 0; i < C.params->len; i++) {
		xmlrpc_param_begin(&B);
		emit_value(&e, C.params->u.a[i]);
		xmlrpc_param_end(&B);
	}
	xmlrpc_call_end(&B);
	assert_int_equal(e.error, 0);
	if (xmlrpc_parse_call(&A, B.data, B.len, &c2, &E) != 0)
		fail_msg("re-parse failed: %s\n%s", E, B.data);
	assert_string_equal(C.method, c2.method);
	assert_true(rt_xml_equal(C.params, c2.params));
}

static void test_round_trips(void **state)
{
	static const char *docs[] = {
		python_call,
		CALL_HEAD "<value>a\r\nb&#13;c&#1114111;</value>" CALL_TAIL,
		CALL_HEAD "<value><base64>AAECAwQFBgcICQoLDA0ODxAR</base64></value>" CALL_TAIL,
		CALL_HEAD "<value><double>nan</double></value>" CALL_TAIL,
		CALL_HEAD "<value><dateTime.iso8601>a&lt;b</dateTime.iso8601></value>" CALL_TAIL,
		CALL_HEAD "<value><struct><member><name>&#13;x&gt;</name><value><i8>-9223372036854775808</i8>"
		"</value></member></struct></value>" CALL_TAIL,
	};
	size_t i;

	struct xv *r1, *r2;
	struct emit e;
	int f;

	for (i = 0; i < sizeof(docs) / sizeof(docs[0]); i++)
		round_trip(docs[i], strlen(docs[i]));
	/* and a response */
	assert_int_equal(xmlrpc_parse_response(&A, xapi_record, strlen(xapi_record),
					       &r1, &f, &E), 0);
	buf_reset(&B);
	xmlrpc_emit_init(&e, &B);
	xmlrpc_response_begin(&B);
	emit_value(&e, r1);
	xmlrpc_response_end(&B);
	/* identical but for the <i4>: an INT goes out as an int64 string */
	{
		const char *i4 = strstr(xapi_record, "<i4>7</i4>");
		size_t pre = (size_t)(i4 - xapi_record);

		assert_int_equal(B.len, strlen(xapi_record) - 9);
		assert_memory_equal(B.data, xapi_record, pre);
		assert_memory_equal(B.data + pre, "7</value>", 9);
		assert_string_equal(B.data + pre + 1, i4 + 10);
	}
	assert_int_equal(xmlrpc_parse_response(&A, B.data, B.len, &r2, &f, &E), 0);
	assert_true(rt_xml_equal(r1, r2));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_python_call, setup, teardown),
		cmocka_unit_test_setup_teardown(test_no_params, setup, teardown),
		cmocka_unit_test_setup_teardown(test_many_params, setup, teardown),
		cmocka_unit_test_setup_teardown(test_prolog, setup, teardown),
		cmocka_unit_test_setup_teardown(test_prolog_errors, setup, teardown),
		cmocka_unit_test_setup_teardown(test_document_errors, setup, teardown),
		cmocka_unit_test_setup_teardown(test_attributes, setup, teardown),
		cmocka_unit_test_setup_teardown(test_untyped_strings, setup, teardown),
		cmocka_unit_test_setup_teardown(test_typed_strings, setup, teardown),
		cmocka_unit_test_setup_teardown(test_entities, setup, teardown),
		cmocka_unit_test_setup_teardown(test_line_ends, setup, teardown),
		cmocka_unit_test_setup_teardown(test_text_validation, setup, teardown),
		cmocka_unit_test_setup_teardown(test_ints, setup, teardown),
		cmocka_unit_test_setup_teardown(test_booleans, setup, teardown),
		cmocka_unit_test_setup_teardown(test_doubles, setup, teardown),
		cmocka_unit_test_setup_teardown(test_datetimes, setup, teardown),
		cmocka_unit_test_setup_teardown(test_base64, setup, teardown),
		cmocka_unit_test_setup_teardown(test_nil, setup, teardown),
		cmocka_unit_test_setup_teardown(test_arrays, setup, teardown),
		cmocka_unit_test_setup_teardown(test_structs, setup, teardown),
		cmocka_unit_test_setup_teardown(test_depth, setup, teardown),
		cmocka_unit_test_setup_teardown(test_wide, setup, teardown),
		cmocka_unit_test_setup_teardown(test_arena_limits, setup, teardown),
		cmocka_unit_test_setup_teardown(test_truncation, setup, teardown),
		cmocka_unit_test_setup_teardown(test_parse_response, setup, teardown),
		cmocka_unit_test_setup_teardown(test_emit_scalars, setup, teardown),
		cmocka_unit_test_setup_teardown(test_emit_containers, setup, teardown),
		cmocka_unit_test_setup_teardown(test_emit_depth, setup, teardown),
		cmocka_unit_test_setup_teardown(test_escape_every_byte, setup, teardown),
		cmocka_unit_test_setup_teardown(test_xml_escape, setup, teardown),
		cmocka_unit_test_setup_teardown(test_framing, setup, teardown),
		cmocka_unit_test_setup_teardown(test_python_checked_record, setup, teardown),
		cmocka_unit_test_setup_teardown(test_round_trips, setup, teardown),
	};

	return cmocka_run_group_tests_name("xmlrpc", tests, NULL, NULL);
}
