// One integrator's session against openpws through node-soap, the SOAP client most Node code uses.
// Every request is built by node-soap from the served WSDL (member names, namespaces and order);
// nothing here writes XML.
//
// Usage: node scenario.js CONFIG, where CONFIG is a JSON object: wsdl (the ?wsdl address),
// account, first and second ({login, password}: two users with every permission), monday (a Monday,
// YYYY-MM-DD, of a week the account may book). Prints one JSON object (see report() below) and
// exits 0 unless the scenario could not run at all.
//
// Every operation of the contract is called at least once: adding an operation to the contract is
// one more step() line below (and one more line in tests/stacks/test_stacks.py).
'use strict';

const soap = require('soap');

const config = JSON.parse(process.argv[2]);
const calls = []; // {operation, user, outcome} in the order made
const failures = []; // what did not hold, in words
const entities = []; // {kind, code, uid}: what was made, for the test to look up on its own
let operations = []; // the contract's operations, as node-soap read them from the WSDL

// Uids are Int64 and openpws's are 2^60 + n: a double holds them only to the nearest 256. node-soap
// turns xs:long into a Number (parseInt) unless told otherwise, so keep every xs:long as its text.
const options = {customDeserializer: {long: (text) => text}};

function check(condition, what) {
  if (!condition) failures.push(what);
}

// The items of an ArrayOfX member: node-soap gives an object for one item and an array for several.
function items(wrapper, name) {
  if (wrapper === null || wrapper === undefined || wrapper[name] === undefined) return [];
  return [].concat(wrapper[name]);
}

function isExactUid(uid) {
  return typeof uid === 'string' && /^[0-9]+$/.test(uid) && BigInt(uid) > 2n ** 53n;
}

function uid(value, what) {
  check(isExactUid(value), `${what}: ${JSON.stringify(value)} is not an exact Int64 Uid above 2^53`);
  return value;
}

function made(kind, code, value) {
  entities.push({kind, code, uid: uid(value, `${kind} ${code} Uid`)});
  return {code, uid: value};
}

function messagesOf(holder) {
  return items(holder && holder.Messages, 'PwsMessage').map((m) => Number(m.ErrorNumber));
}

class PwsFault extends Error {
  constructor(operation, detail) {
    super(`${operation}: PwsFault`);
    this.detail = detail;
  }
}

function session(name) {
  return {name, ticket: null};
}

// One call: the outcome is recorded as "Status[ numbers]", "PwsFault numbers" or "SOAP fault CODE".
// Answers with a Status come back; a PwsFault is thrown as PwsFault with the detail node-soap parsed.
async function step(client, operation, user, members) {
  const request = {serviceRequest: {SessionTicket: user.ticket, ...members}};
  try {
    const [result] = await client[`${operation}Async`](request);
    const answer = result[`${operation}Result`];
    const numbers = messagesOf(answer);
    calls.push({operation, user: user.name, outcome: [answer.Status, ...numbers].join(' ')});
    return answer;
  } catch (error) {
    const fault = error.root && error.root.Envelope && error.root.Envelope.Body && error.root.Envelope.Body.Fault;
    if (!fault) throw error;
    const detail = fault.detail && fault.detail.PwsFault;
    if (!detail) {
      calls.push({operation, user: user.name, outcome: `SOAP fault ${fault.faultcode}`});
      throw error;
    }
    calls.push({operation, user: user.name, outcome: ['PwsFault', ...messagesOf(detail)].join(' ')});
    throw new PwsFault(operation, detail);
  }
}

async function expectFault(promise) {
  try {
    await promise;
  } catch (error) {
    if (error instanceof PwsFault) return error.detail;
    throw error;
  }
  return null;
}

async function scenario() {
  const client = await soap.createClientAsync(config.wsdl, options);
  const description = client.describe();
  const [service] = Object.values(description);
  const [port] = Object.values(service);
  operations = Object.keys(port).sort();
  const call = (operation, user, members = {}) => step(client, operation, user, members);
  const first = session('first');
  const second = session('second');
  const tag = `node-${process.pid}`;

  // Log in as two users of one account.
  for (const [user, who] of [[first, config.first], [second, config.second]]) {
    const login = await call('PwsAuthenticate', {name: user.name, ticket: null},
      {AccountCode: config.account, UserName: who.login, Password: who.password});
    user.ticket = login.SessionTicket;
    user.uid = uid(login.UserIdentity.UserUid, `${user.name} user's UserUid`);
  }

  // A client tree, read back by Uid and by search.
  const parentName = `Stack Holdings ${tag}`;
  let saved = await call('PwsSaveClient', first, {Client: {ClientName: parentName}});
  const parent = made('client', saved.ClientIdentity.ClientNumber, saved.ClientIdentity.ClientUid);
  saved = await call('PwsSaveClient', first,
    {Client: {ClientName: `Stack Unit ${tag}`, ParentClientIdentity: {ClientUid: parent.uid}}});
  const child = made('client', saved.ClientIdentity.ClientNumber, saved.ClientIdentity.ClientUid);
  const clients = await call('PwsGetClient', first, {ClientIdentities: {PwsClientRef: [{ClientUid: child.uid}]}});
  const [childDetail] = items(clients.Clients, 'PwsClientElement').map((e) => e.ClientDetail);
  check(childDetail && childDetail.ClientNumber === child.code && childDetail.ClientUid === child.uid,
    'PwsGetClient by Uid answers that client');
  check(childDetail && childDetail.ParentClientIdentity.ClientUid === parent.uid,
    'PwsGetClient: the parent Uid is the one saved');
  const listed = await call('PwsGetClientList', first, {QueryString: parentName});
  check(items(listed.Clients, 'PwsClientSummary').some((c) => c.ClientUid === parent.uid),
    'PwsGetClientList finds the parent with its exact Uid');

  // An engagement, a project and a role, each made by Uid reference to its parent.
  const engagementName = `Stack rollout ${tag}`;
  saved = await call('PwsSaveEngagement', first,
    {Engagement: {ClientIdentity: {ClientUid: child.uid}, EngagementName: engagementName}});
  const engagement = made('engagement', saved.EngagementIdentity.EngagementCode,
    saved.EngagementIdentity.EngagementUid);
  const engagements = await call('PwsGetEngagement', first,
    {EngagementIdentities: {PwsEngagementRef: [{EngagementUid: engagement.uid}]}});
  const [element] = items(engagements.Engagements, 'PwsEngagementElement');
  check(element && element.EngagementDetail.EngagementCode === engagement.code,
    'PwsGetEngagement by Uid answers that engagement');
  check(element && element.EngagementDetail.ClientIdentity.ClientUid === child.uid,
    'PwsGetEngagement: its client Uid is exact');
  const found = await call('PwsGetEngagementList', first, {QueryString: engagementName});
  check(items(found.Engagements, 'PwsEngagementSummary').some((e) => e.EngagementUid === engagement.uid),
    'PwsGetEngagementList finds the engagement with its exact Uid');
  saved = await call('PwsSaveProject', first, {Mode: 'R', Project: {
    EngagementIdentity: {EngagementUid: engagement.uid}, ProjectName: `Stack phase 1 ${tag}`,
    OpenDate: `${config.monday}T00:00:00Z`}});
  const project = made('project', saved.ProjectIdentity.ProjectCode, saved.ProjectIdentity.ProjectUid);
  const projects = await call('PwsGetProjectList', first, {QueryString: `Stack phase 1 ${tag}`});
  check(items(projects.Projects, 'PwsProjectSummary').some((p) => p.ProjectUid === project.uid),
    'PwsGetProjectList finds the project with its exact Uid');

  // The engagement's insert made its first contract line item; a second one, fixed price, takes the
  // project, and both are read back: the project is on the second only.
  saved = await call('PwsSaveContractLineItem', first, {ContractLineItem: {
    ContractLineItemName: `Stack fixed fee ${tag}`, EngagementIdentity: {EngagementUid: engagement.uid},
    TimeContractTerms: 'F', PurchaseOrderNumber: `PO-${tag}`}});
  const line = made('contract line item', saved.ContractLineItemIdentity.ContractLineItemCode,
    saved.ContractLineItemIdentity.ContractLineItemUid);
  await call('PwsSaveProject', first, {Mode: 'R', Project: {ProjectUid: project.uid,
    ContractLineItemIdentity: {ContractLineItemUid: line.uid}}});
  const firstLineCode = `${engagement.code}-CL1`;
  const lines = await call('PwsGetContractLineItem', first, {ContractLineItemIdentities: {PwsContractLineItemRef: [
    {ContractLineItemUid: line.uid}, {ContractLineItemCode: firstLineCode}]}});
  const [readLine, firstLine] = items(lines.ContractLineItems, 'PwsContractLineItemElement');
  const lineDetail = readLine && readLine.ContractLineItemDetail;
  check(lineDetail && lineDetail.ContractLineItemUid === line.uid && lineDetail.ContractLineItemCode === line.code,
    'PwsGetContractLineItem by Uid answers that contract line item, Uid exact');
  check(lineDetail && lineDetail.EngagementIdentity.EngagementUid === engagement.uid,
    'PwsGetContractLineItem: its engagement Uid is exact');
  check(lineDetail && lineDetail.TimeContractTerms === 'F' && lineDetail.CostContractTerms === 'T'
    && lineDetail.PurchaseOrderNumber === `PO-${tag}`, 'PwsGetContractLineItem: the terms and PO number saved');
  check(readLine && items(readLine.Projects, 'PwsProjectSummary').map((p) => p.ProjectUid).join() === project.uid,
    'PwsGetContractLineItem: the project moved onto the second contract line item, Uid exact');
  check(firstLine && firstLine.ContractLineItemDetail.ContractLineItemCode === firstLineCode
    && isExactUid(firstLine.ContractLineItemDetail.ContractLineItemUid)
    && items(firstLine.Projects, 'PwsProjectSummary').length === 0,
  'PwsGetContractLineItem: the first contract line item, by code, has no project left');

  // Resources are the account's users: the second user is found in the list by its Uid, read, and
  // requested on the role.
  const resources = await call('PwsGetResourceList', first);
  const listedResources = items(resources.Resources, 'PwsResourceSummary');
  check(listedResources.length > 0 && listedResources.every((r) => isExactUid(r.ResourceUid)),
    'PwsGetResourceList: every ResourceUid is an exact Int64 above 2^53');
  const resource = listedResources.find((r) => r.ResourceUid === second.uid);
  check(resource !== undefined && listedResources.some((r) => r.ResourceUid === first.uid),
    'PwsGetResourceList finds both users by their exact Uids');
  const readResources = await call('PwsGetResource', first,
    {ResourceIdentities: {PwsResourceRef: [{ResourceUid: second.uid}]}});
  const [readResource] = items(readResources.Resources, 'PwsResourceElement');
  check(readResource && readResource.ResourceDetail.ResourceUid === second.uid && resource
    && readResource.ResourceDetail.ResourceDisplayName === resource.ResourceDisplayName
    && readResource.ResourceDetail.ResourceReferenceSystemId === resource.ResourceReferenceSystemId,
  'PwsGetResource by Uid answers the resource listed, Uid exact');
  check(readResource && readResource.LastUpdatedTimestamp instanceof Date
    && readResource.LastUpdatedTimestamp <= readResources.ServerTimestampUtc,
  'PwsGetResource: LastUpdatedTimestamp is a date, not after the answer\'s ServerTimestampUtc');
  saved = await call('PwsSaveProjectRole', first, {Mode: 'R', ProjectIdentity: {ProjectUid: project.uid},
    ProjectRole: {ExternalSystemIdentifier: `R-${tag}`, ResourceIdentity: {ResourceUid: second.uid}, RoleName: 'Architect'}});
  const role = made('role', `R-${tag}`, saved.ProjectRoleIdentity.ProjectRoleUid);

  // Hours on the role, read back as a requester plans them, with the project's roles and with the project.
  const weeks = [0, 1].map((w) => new Date(Date.parse(`${config.monday}T00:00:00Z`) + w * 7 * 86400000));
  await call('PwsRequestOrBookRoleHours', first, {Mode: 'R', ProjectRoles: {PwsProjectRoleHours: [{
    ProjectRoleIdentity: {ProjectRoleUid: role.uid},
    HoursBuckets: {PwsProjectRoleHoursBucket: weeks.map((week) => (
      {BucketStartDate: week.toISOString(), SchedulingMode: 'W', WeeklyMinutes: 600}))}}]}});
  // The window runs from this week to the last week with hours; nothing is booked yet.
  const scheduling = await call('PwsGetResourceSchedulingRoleData', first, {MinimumWeekCount: 1,
    ProjectIdentity: {ProjectUid: project.uid}, RequestOrScheduleMode: 'R', StartDate: `${config.monday}T00:00:00Z`});
  const [schedule] = items(scheduling.ProjectRoles, 'PwsProjectRoleSchedule');
  const weeksOf = (buckets) => items(buckets, 'PwsProjectRoleHoursBucket')
    .map((b) => `${b.BucketStartDate.toISOString().slice(0, 10)} ${b.WeeklyMinutes}`).join();
  const weekDays = weeks.map((week) => week.toISOString().slice(0, 10));
  check(scheduling.RequestOrScheduleMode === 'R' && scheduling.WeekCount === 2
    && scheduling.EndDate.toISOString().slice(0, 10) === weekDays[1],
  'PwsGetResourceSchedulingRoleData: the window is the two weeks with hours, read as requester');
  check(schedule && schedule.ProjectRoleIdentity.ProjectRoleUid === role.uid
    && schedule.ProjectIdentity.ProjectUid === project.uid,
  'PwsGetResourceSchedulingRoleData: the role and project Uids are exact');
  check(schedule && weeksOf(schedule.RequestedBuckets) === weekDays.map((d) => `${d} 600`).join(),
    'PwsGetResourceSchedulingRoleData: the requested buckets hold the hours requested');
  check(schedule && weeksOf(schedule.BookedBuckets) === weekDays.map((d) => `${d} 0`).join()
    && schedule.BookedHoursFlag === false, 'PwsGetResourceSchedulingRoleData: nothing is booked');
  const candidates = items(schedule && schedule.Candidates, 'PwsProjectRoleCandidate');
  check(schedule && schedule.ResourceIdentity.ResourceUid === second.uid && candidates.length === 1
    && candidates[0].ResourceIdentity.ResourceUid === second.uid && candidates[0].SelectedCandidateFlag === true,
  'PwsGetResourceSchedulingRoleData: the requested resource is the second user, Uid exact');
  check(items(scheduling.Resources, 'PwsResourceSchedule').map((r) => r.ResourceIdentity.ResourceUid).join() === second.uid,
    'PwsGetResourceSchedulingRoleData: Resources lists the second user, Uid exact');
  const roles = await call('PwsGetProjectRoles', first,
    {Mode: 'R', ProjectIdentities: {PwsProjectRef: [{ProjectUid: project.uid}]}});
  const [projectRoles] = items(roles.ProjectProjectRoles, 'PwsProjectProjectRoles');
  const [readRole] = items(projectRoles && projectRoles.ProjectRoles, 'PwsProjectRoleElement');
  check(readRole && readRole.ProjectRoleDetail.ProjectRoleUid === role.uid, 'PwsGetProjectRoles: the role Uid is exact');
  check(readRole && items(readRole.HoursBuckets, 'PwsProjectRoleHoursBucket').map((b) => Number(b.WeeklyMinutes))
    .join() === '600,600', 'PwsGetProjectRoles: the requested hours are back');
  const read = await call('PwsGetProject', first, {Mode: 'A', ProjectIdentities: {PwsProjectRef: [{ProjectUid: project.uid}]}});
  const [readProject] = items(read.Projects, 'PwsProjectElement');
  check(readProject && readProject.ProjectDetail.ProjectUid === project.uid
    && readProject.ProjectDetail.EngagementIdentity.EngagementUid === engagement.uid,
  'PwsGetProject: the project and engagement Uids are exact');
  check(readProject && readProject.ProjectDetail.ContractLineItemIdentity.ContractLineItemUid === line.uid,
    'PwsGetProject: the project is on the second contract line item, Uid exact');

  // A business error is an answer, not an exception; the role is deleted once its hours may go.
  const roleRef = {ProjectRoleIdentity: {ProjectRoleUid: role.uid}};
  const refused = await call('PwsDeleteProjectRole', first, roleRef);
  check(refused.Status === 'Fail', 'PwsDeleteProjectRole of a role with hours answers Status=Fail');
  await call('PwsDeleteProjectRole', first, {...roleRef, ZeroOutHoursFlag: true});
  await call('PwsUndeleteProjectRole', first, roleRef);

  // The second user locks the engagement; the first user's write gets a PwsFault as a SOAP fault,
  // and sends its LockHolders back, as parsed, to steal the lock.
  const locked = await call('PwsAcquireProjectorLocks', second, {LockDurationSeconds: 600,
    Locks: {PwsProjectorLockRequest: [{EntityIdentity: {EntityUid: engagement.uid, LockType: 'E'}}]}});
  const setId = locked.ProjectorLockSetId;
  const [lock] = items(locked.Locks, 'PwsProjectorLock');
  check(lock && lock.EntityIdentity.EntityUid === engagement.uid && lock.EntityIdentity.EntityCode === engagement.code,
    'PwsAcquireProjectorLocks: the locked engagement comes back with its exact Uid');
  await call('PwsCheckProjectorLocks', second, {ProjectorLockSetId: setId});
  await call('PwsRenewProjectorLocks', second, {LockDurationSeconds: 600, ProjectorLockSetId: setId});
  const rename = {Mode: 'R', Project: {ProjectUid: project.uid, ProjectName: `Stack phase one ${tag}`}};
  const fault = await expectFault(call('PwsSaveProject', first, rename));
  check(fault !== null, 'PwsSaveProject under another user\'s lock is a SOAP fault with a PwsFault detail');
  if (fault !== null) {
    check(fault.LockHolderUserIdentity && fault.LockHolderUserIdentity.UserUid === second.uid,
      'PwsFault: LockHolderUserIdentity is the second user, Uid exact');
    const [holder] = items(fault.LockHolders, 'PwsEntityLockSummary');
    check(holder && holder.EntityIdentity.EntityUid === engagement.uid, 'PwsFault: LockHolders names the engagement by its exact Uid');
    // node-soap does not type a fault's detail by the WSDL: every value in it is its text.
    check(fault.AllowLocksToBeStolenFlag === 'true', 'PwsFault: AllowLocksToBeStolenFlag is true');
    const stolen = await call('PwsSaveProject', first, {...rename, LocksToSteal: fault.LockHolders});
    check(stolen.LockStolenFromUserIdentity && stolen.LockStolenFromUserIdentity.UserUid === second.uid,
      'LocksToSteal: the save reports the lock stolen from the second user');
  }
  const released = await call('PwsReleaseProjectorLocks', second, {ProjectorLockSetId: setId});
  check(released.StolenLock && released.StolenLock.LockStolenByUser.UserUid === first.uid,
    'PwsReleaseProjectorLocks: StolenLock names the first user, Uid exact');

  // An invoice, which then keeps the engagement from being deleted.
  saved = await call('PwsCreateInvoice', first, {InvoiceSpec: {
    ClientIdentity: {ClientUid: child.uid}, EngagementIdentity: {EngagementUid: engagement.uid},
    ProjectIdentity: {ProjectUid: project.uid}, CostCenterIdentity: {CostCenterName: 'Head Office'},
    EngagementCurrencyIdentity: {CurrencyCode: 'USD'}, BillingCultureIdentity: {CultureName: 'en-US'},
    InvoiceName: 'First', InvoiceContent: 'A'}});
  const invoice = made('invoice', saved.InvoiceIdentity.InvoiceNumber, saved.InvoiceIdentity.InvoiceUid);
  const got = await call('PwsGetInvoice', first, {InvoiceIdentity: {InvoiceUid: invoice.uid}});
  check(got.Invoice.InvoiceIdentity.InvoiceUid === invoice.uid && got.Invoice.Engagement.EngagementUid === engagement.uid,
    'PwsGetInvoice: the invoice and engagement Uids are exact');
  await call('PwsDeleteEngagement', first, {EngagementIdentity: {EngagementUid: engagement.uid}, CascadeDeleteFlag: true});

  // Deletes, each by Uid: a project, its engagement, a client.
  saved = await call('PwsSaveEngagement', first,
    {Engagement: {ClientIdentity: {ClientUid: parent.uid}, EngagementName: `Stack short ${tag}`}});
  const shortLived = saved.EngagementIdentity;
  saved = await call('PwsSaveProject', first, {Mode: 'R', Project: {
    EngagementIdentity: {EngagementUid: shortLived.EngagementUid}, ProjectName: 'Stack short project'}});
  await call('PwsDeleteProject', first, {ProjectIdentity: {ProjectUid: saved.ProjectIdentity.ProjectUid}});
  await call('PwsDeleteEngagement', first, {EngagementIdentity: {EngagementUid: shortLived.EngagementUid}});
  saved = await call('PwsSaveClient', first, {Client: {ClientName: `Stack leaf ${tag}`, ParentClientIdentity: {ClientUid: parent.uid}}});
  await call('PwsDeleteClient', first, {ClientIdentity: {ClientUid: saved.ClientIdentity.ClientUid}});

  // The rate limiter, off by default, still counts its own call and the hits it simulates.
  const limiter = await call('PwsTestRateLimiter', second, {SimulateSessionHitsAfter: 5});
  const snapshot = limiter.RateLimitSnapshot;
  check(snapshot && String(snapshot.EnabledFlag) === 'false' && Number(snapshot.SessionHitCount) === 6
    && Number(snapshot.UserHitCount) === 1 && Number(snapshot.RollingWindowSeconds) === 60
    && Number(snapshot.SessionRateLimit) === 1200,
  'PwsTestRateLimiter: the snapshot counts its own hit and the simulated ones');

  // Log out; the ticket is dead after.
  await call('PwsUnauthenticate', second);
  await call('PwsUnauthenticate', first);
  await call('PwsGetClient', first, {ClientIdentities: {PwsClientRef: [{ClientUid: child.uid}]}});
}

function report(error) {
  const called = new Set(calls.map((c) => c.operation));
  process.stdout.write(`${JSON.stringify({
    stack: `node-soap ${require('soap/package.json').version} on node ${process.versions.node}`,
    operations,
    uncalled: operations.filter((operation) => !called.has(operation)),
    calls,
    entities,
    failures,
    error: error ? String(error.stack || error) : null,
  }, null, 1)}\n`);
}

scenario().then(() => report(null), (error) => report(error));
