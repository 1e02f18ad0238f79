/* test_websettings.c: the webmail settings object's checks (jmap_settings_apply):
 * the defaults, each property's allowed values and bounds, unknown and server-set
 * properties refused, imagesFrom's addresses checked and normalised, and a refused patch (one bad property each) leaving the object
 * unchanged. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "jmap.h"

#include <string.h>

static const char *apply(json_t *cur, const char *patch)
{
	static char type[64];
	json_t *p = json_loads(patch, 0, NULL);
	assert_non_null(p);
	json_t *err = jmap_settings_apply(cur, p);
	json_decref(p);
	if (err == NULL)
		return NULL;
	snprintf(type, sizeof(type), "%s", json_string_value(json_object_get(err, "type")));
	json_decref(err);
	return type;
}

static void test_defaults(void **state)
{
	(void)state;
	json_t *d = jmap_settings_defaults();
	assert_string_equal(json_string_value(json_object_get(d, "id")), "singleton");
	assert_true(json_is_false(json_object_get(d, "showImagesFromKnown")));
	assert_true(json_is_false(json_object_get(d, "notifications")));
	assert_string_equal(json_string_value(json_object_get(d, "density")), "comfortable");
	assert_string_equal(json_string_value(json_object_get(d, "language")), "");
	assert_int_equal(json_integer_value(json_object_get(d, "undoSendSeconds")), 5);
	assert_int_equal(json_array_size(json_object_get(d, "imagesFrom")), 0);
	json_decref(d);
}

static void test_valid(void **state)
{
	(void)state;
	json_t *d = jmap_settings_defaults();
	assert_null(apply(d, "{\"density\":\"compact\",\"language\":\"de\",\"undoSendSeconds\":0,"
			     "\"notifications\":true,\"showImagesFromKnown\":true,\"id\":\"singleton\"}"));
	assert_string_equal(json_string_value(json_object_get(d, "density")), "compact");
	assert_string_equal(json_string_value(json_object_get(d, "language")), "de");
	assert_int_equal(json_integer_value(json_object_get(d, "undoSendSeconds")), 0);
	assert_true(json_is_true(json_object_get(d, "notifications")));
	assert_null(apply(d, "{\"undoSendSeconds\":30,\"language\":\"\"}"));
	assert_int_equal(json_integer_value(json_object_get(d, "undoSendSeconds")), 30);
	/* imagesFrom: lower case, duplicates dropped */
	assert_null(apply(d, "{\"imagesFrom\":[\"Ann@Example.org\",\"ann@example.org\",\"b@x.test\"]}"));
	json_t *l = json_object_get(d, "imagesFrom");
	assert_int_equal(json_array_size(l), 2);
	assert_string_equal(json_string_value(json_array_get(l, 0)), "ann@example.org");
	assert_string_equal(json_string_value(json_array_get(l, 1)), "b@x.test");
	assert_null(apply(d, "{\"imagesFrom\":[]}"));
	assert_int_equal(json_array_size(json_object_get(d, "imagesFrom")), 0);
	json_decref(d);
}

static void test_invalid(void **state)
{
	(void)state;
	json_t *d = jmap_settings_defaults();
	static const char *const bad[] = {
		"{\"density\":\"tiny\"}",      "{\"density\":1}",          "{\"language\":\"fr\"}",
		"{\"language\":null}",         "{\"undoSendSeconds\":31}", "{\"undoSendSeconds\":-1}",
		"{\"undoSendSeconds\":2.5}",   "{\"undoSendSeconds\":\"5\"}", "{\"notifications\":1}",
		"{\"showImagesFromKnown\":null}", "{\"theme\":\"dark\"}",   "{\"id\":\"other\"}",
		"{\"imagesFrom\":\"a@b\"}",   "{\"imagesFrom\":[\"nobody\"]}", "{\"imagesFrom\":[1]}",
		"{\"imagesFrom\":[\"a b@c\"]}", "{\"imagesFrom\":[\"<a@b>\"]}", "{\"imagesFrom\":null}",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		const char *t = apply(d, bad[i]);
		assert_non_null(t);
		assert_string_equal(t, "invalidProperties");
	}
	/* at most 200 senders */
	char big[256 * 20];
	size_t k = (size_t)snprintf(big, sizeof(big), "{\"imagesFrom\":[");
	for (int i = 0; i < 201; i++)
		k += (size_t)snprintf(big + k, sizeof(big) - k, "%s\"s%d@x.test\"", i ? "," : "", i);
	snprintf(big + k, sizeof(big) - k, "]}");
	assert_string_equal(apply(d, big), "invalidProperties");
	/* nothing of the refused patches stuck */
	json_t *fresh = jmap_settings_defaults();
	assert_true(json_equal(d, fresh));
	json_decref(fresh);
	json_decref(d);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_valid),
		cmocka_unit_test(test_invalid),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
