/* Reading the XML that libvirt gives back (a domain's definition, the
 * host's capabilities): a parse that never reaches the network and never
 * prints, and the two lookups every reader needs. */

#ifndef MIGRATOR_XML_H
#define MIGRATOR_XML_H 1

#include <libxml/tree.h>

xmlDoc *migr_xml_parse(const char *xml);
xmlNode *migr_xml_child(const xmlNode *, const char *name);
char *migr_xml_attr(const xmlNode *, const char *name);
char *migr_xml_content(const xmlNode *);

#endif /* migrator/xml.h */
