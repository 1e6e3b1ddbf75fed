#include <config.h>

#include "migrator/xml.h"

#include <libxml/parser.h>
#include <string.h>

#include "util.h"

/* 'xml' as a document (the caller frees it with xmlFreeDoc()), or NULL if
 * it is not well formed. */
xmlDoc *
migr_xml_parse(const char *xml)
{
    return xmlReadMemory(xml, strlen(xml), "libvirt.xml", NULL,
                         XML_PARSE_NONET | XML_PARSE_NOERROR
                         | XML_PARSE_NOWARNING);
}

/* The first element child of 'node' called 'name', or NULL. */
xmlNode *
migr_xml_child(const xmlNode *node, const char *name)
{
    for (xmlNode *c = node ? node->children : NULL; c; c = c->next) {
        if (c->type == XML_ELEMENT_NODE
            && !strcmp((const char *) c->name, name)) {
            return c;
        }
    }
    return NULL;
}

/* A copy of attribute 'name' of 'node' (malloc'd), or NULL. */
char *
migr_xml_attr(const xmlNode *node, const char *name)
{
    xmlChar *v = node ? xmlGetProp(node, (const xmlChar *) name) : NULL;
    char *s = v ? xstrdup((const char *) v) : NULL;
    xmlFree(v);
    return s;
}

/* A copy of the text inside 'node' (malloc'd), or NULL. */
char *
migr_xml_content(const xmlNode *node)
{
    xmlChar *v = node ? xmlNodeGetContent(node) : NULL;
    char *s = v ? xstrdup((const char *) v) : NULL;
    xmlFree(v);
    return s;
}
