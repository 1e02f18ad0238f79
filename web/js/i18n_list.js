// i18n_list.js: the German and English texts of the message list's additions:
// undo of moves (toast and key z), the conversation list, and folders with a
// parent (create dialog, collapsing the tree). Merged into i18n.js's dictionaries.

export const de = {
  undo: 'Rückgängig',
  'status.undone': 'Rückgängig gemacht.',
  'shortcuts.undo': 'Verschieben, Löschen, Archivieren oder Spam rückgängig machen',
  'list.conversations': 'Als Unterhaltungen anzeigen',
  'list.threadCount': '{n} Nachrichten in dieser Unterhaltung',
  'folder.parent': 'Übergeordneter Ordner',
  'folder.topLevel': '(oberste Ebene)',
  'folder.expand': 'Unterordner von „{name}“ anzeigen',
  'folder.collapse': 'Unterordner von „{name}“ ausblenden',
  'folder.exists': 'Den Ordner „{name}“ gibt es dort schon.',
  'folder.badName': 'Ein Ordnername darf keinen Schrägstrich (/) enthalten. Unterordner legen Sie mit „Übergeordneter Ordner“ an.',
};

export const en = {
  undo: 'Undo',
  'status.undone': 'Undone.',
  'shortcuts.undo': 'Undo move, delete, archive or spam',
  'list.conversations': 'Show as conversations',
  'list.threadCount': '{n} messages in this conversation',
  'folder.parent': 'Parent folder',
  'folder.topLevel': '(top level)',
  'folder.expand': 'Show the sub-folders of “{name}”',
  'folder.collapse': 'Hide the sub-folders of “{name}”',
  'folder.exists': 'The folder “{name}” is already there.',
  'folder.badName': 'A folder name cannot contain a slash (/). Create sub-folders with “Parent folder”.',
};
